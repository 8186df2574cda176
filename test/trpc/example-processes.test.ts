/**
 * `npm run example:trpc-fastify` and `npm run example:trpc-lambda` (with `LAMBDA_EVENT` v2, v1 and
 * alb) as a user, or the black-box suite, runs them: child processes configured by env vars only, on
 * a free port, talked to over HTTP, and stopped by their PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestIssuer } from 'clerk-api-auth/testing';
import { ALICE, get, until } from './helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
let child: ChildProcess | undefined;

afterEach(() => {
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    // The process group: npm, its shell and the server it started.
    process.kill(-child.pid, 'SIGKILL');
  }
  child = undefined;
});

/** A GET through node:http, sending header names in the case given. */
function send(url: string, headers: OutgoingHttpHeaders): Promise<{ status: number; wwwAuthenticate: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, wwwAuthenticate: res.headers['www-authenticate'], body }));
    });
    req.once('error', reject);
    req.end();
  });
}

async function start(script: string, name: string, extra: NodeJS.ProcessEnv) {
  const issuer = await createTestIssuer();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    CLERK_JWT_KEY: issuer.jwtKey,
    CLERK_SECRET_KEY: '',
    CLERK_PUBLISHABLE_KEY: '',
    CLERK_AUTHORIZED_PARTIES: 'http://localhost:3000',
    CLERK_API_URL: '',
    CLERK_TELEMETRY_DISABLED: '1',
    ...extra,
  };
  const spawned = spawn('npm', ['run', '--silent', script], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child = spawned;
  const output = { stdout: '', stderr: '' };
  spawned.stdout?.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  spawned.stderr?.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => spawned.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  const listening = new RegExp(`${name}: listening on http://localhost:(\\d+)/trpc`);
  await until(() => listening.test(output.stdout) || spawned.exitCode !== null, 30_000, `${script} to listen`);
  const port = listening.exec(output.stdout)?.[1];
  expect(port, output.stderr).toBeDefined();
  const stop = async (): Promise<number | null> => {
    process.kill(-(spawned.pid as number), 'SIGTERM');
    return exited;
  };
  return { issuer, url: `http://127.0.0.1:${port}/trpc`, output, stop };
}

describe('npm run example:trpc-fastify', () => {
  it('starts from env vars only, answers with WWW-Authenticate through Fastify, logs without tokens, and stops on SIGTERM', async () => {
    const { issuer, url, output, stop } = await start('example:trpc-fastify', 'trpc-fastify', {});
    expect(output.stdout).toMatch(/trpc-fastify: listening on http:\/\/localhost:\d+\/trpc/);
    const token = await issuer.sessionToken(ALICE);
    expect(await get(url, 'health')).toMatchObject({ status: 200, body: { result: { data: { ok: true } } } });
    expect(await get(url, 'whoami', { token })).toMatchObject({ status: 200, body: { result: { data: { userId: 'user_alice' } } } });
    const signedOut = await get(url, 'whoami');
    expect(signedOut.status).toBe(401);
    expect(signedOut.headers.get('www-authenticate')).toBe('Bearer');
    const expired = await get(url, 'whoami', { token: await issuer.sessionToken({ ...ALICE, expiresInSeconds: -60 }) });
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="token-expired"');
    expect((await get(url, 'me', { token })).status).toBe(501); // CLERK_JWT_KEY only
    const m2m = await issuer.m2mToken({ machineId: 'mch_fastify_log' });
    expect(await get(url, 'machine.ping', { token: m2m })).toMatchObject({ status: 200, body: { result: { data: { machineId: 'mch_fastify_log' } } } });
    // SSE: a refused subscription answers 401 to a plain client (clerkResponseMeta).
    const subscription = await send(`${url}/notes.onAdded`, {});
    expect(subscription.status).toBe(401);
    expect(subscription.wwwAuthenticate).toBe('Bearer');
    expect((await fetch(`${url.replace(/\/trpc$/, '')}/elsewhere`)).status).toBe(404);

    await until(() => output.stdout.includes('/trpc/me 501'), 5000, 'the access log');
    expect(output.stdout).toMatch(/trpc-fastify GET \/trpc\/whoami 200 user_alice [\d.]+ms/);
    expect(output.stdout).toMatch(/trpc-fastify GET \/trpc\/whoami 401 anonymous [\d.]+ms/);
    // The machine a guard admitted, not `anonymous`; never its token.
    expect(output.stdout).toMatch(/trpc-fastify GET \/trpc\/machine.ping 200 mch_fastify_log [\d.]+ms/);
    expect(output.stdout + output.stderr).not.toContain(m2m.slice(-20));
    expect(output.stdout + output.stderr).not.toContain(token.slice(-20));
    expect(output.stdout + output.stderr).not.toContain('OFFLINE DEV ISSUER');
    await stop();
    expect(child?.exitCode !== null || child?.signalCode !== null).toBe(true);
  });
});

describe('npm run example:trpc-lambda', () => {
  it.each(['v2', 'v1', 'alb'] as const)('LAMBDA_EVENT=%s: the handler behind the local API Gateway answers with WWW-Authenticate, logs without tokens, and stops on SIGTERM', async (shape) => {
    const { issuer, url, output, stop } = await start('example:trpc-lambda', 'trpc-lambda', { LAMBDA_EVENT: shape });
    expect(output.stdout).toContain(`(LAMBDA_EVENT=${shape})`);
    const token = await issuer.sessionToken(ALICE);
    expect(await get(url, 'health')).toMatchObject({ status: 200, body: { result: { data: { ok: true } } } });
    // Header names as the client sent them (v1 and ALB keep them so), the scheme in any case.
    const upper = await send(`${url}/whoami`, { AUTHORIZATION: `BEARER ${token}` });
    expect(upper.status).toBe(200);
    expect(JSON.parse(upper.body)).toMatchObject({ result: { data: { userId: 'user_alice' } } });
    const signedOut = await send(`${url}/whoami`, {});
    expect(signedOut.status).toBe(401);
    expect(signedOut.wwwAuthenticate).toBe('Bearer');
    const expired = await get(url, 'whoami', { token: await issuer.sessionToken({ ...ALICE, expiresInSeconds: -60 }) });
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="token-expired"');
    const batch = await get(url, 'health,whoami', { batch: true });
    expect(batch.status).toBe(207);
    expect(batch.headers.get('www-authenticate')).toBe('Bearer');
    const m2m = await issuer.m2mToken({ machineId: `mch_lambda_${shape}` });
    expect(await get(url, 'machine.ping', { token: m2m })).toMatchObject({ status: 200, body: { result: { data: { machineId: `mch_lambda_${shape}` } } } });
    expect((await get(url, 'me', { token })).status).toBe(501);
    expect((await fetch(`${url.replace(/\/trpc$/, '')}/elsewhere`)).status).toBe(404);

    await until(() => output.stdout.includes('/trpc/me 501'), 5000, 'the access log');
    expect(output.stdout).toMatch(/trpc-lambda GET \/trpc\/whoami 200 user_alice [\d.]+ms/);
    expect(output.stdout).toMatch(/trpc-lambda GET \/trpc\/whoami 401 anonymous [\d.]+ms/);
    expect(output.stdout).toContain(`trpc-lambda GET /trpc/machine.ping 200 mch_lambda_${shape} `);
    expect(output.stdout + output.stderr).not.toContain(m2m.slice(-20));
    expect(output.stdout + output.stderr).not.toContain(token.slice(-20));
    expect(output.stdout + output.stderr).not.toContain('OFFLINE DEV ISSUER');
    expect(output.stderr).not.toContain('clerkResponseMeta');
    await stop();
    expect(child?.exitCode !== null || child?.signalCode !== null).toBe(true);
  });

  it('refuses an unknown LAMBDA_EVENT at startup, naming the choices', async () => {
    const spawned = spawn('npm', ['run', '--silent', 'example:trpc-lambda'], {
      cwd: root,
      env: { ...process.env, PORT: '0', LAMBDA_EVENT: 'v3', CLERK_JWT_KEY: (await createTestIssuer()).jwtKey },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = spawned;
    let stderr = '';
    spawned.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => spawned.once('exit', (exitCode) => resolve(exitCode)));
    expect(code).toBe(1);
    expect(stderr).toContain('LAMBDA_EVENT must be one of v2, v1, alb; got "v3"');
  });
});
