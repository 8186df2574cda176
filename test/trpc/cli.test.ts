/**
 * `npm run example:trpc` as a user (or the black-box suite) runs it: a child process configured by
 * env vars only, on a free port, stopped by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestIssuer } from 'clerk-api-auth/testing';
import { ALICE, get, until } from './helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
let child: ChildProcess | undefined;

afterAll(async () => {
  if (child?.pid !== undefined && child.exitCode === null) {
    // The process group: npm, its shell and the server it started.
    process.kill(-child.pid, 'SIGKILL');
  }
});

describe('npm run example:trpc', () => {
  it('starts from env vars only, serves /trpc, logs without tokens, and stops on SIGTERM', async () => {
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
    };
    child = spawn('npm', ['run', '--silent', 'example:trpc'], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));

    await until(() => /listening on http:\/\/localhost:\d+\/trpc/.test(stdout) || child?.exitCode !== null, 20_000, 'the server to listen');
    const port = /listening on http:\/\/localhost:(\d+)\/trpc/.exec(stdout)?.[1];
    expect(port, stderr).toBeDefined();
    const url = `http://127.0.0.1:${port}/trpc`;

    const token = await issuer.sessionToken(ALICE);
    expect(await get(url, 'health')).toMatchObject({ status: 200, body: { result: { data: { ok: true } } } });
    expect(await get(url, 'whoami', { token })).toMatchObject({ status: 200, body: { result: { data: { userId: 'user_alice' } } } });
    expect((await get(url, 'whoami', { token: 'forged' })).status).toBe(401);
    expect((await get(url, 'me', { token })).status).toBe(501); // CLERK_JWT_KEY only

    await until(() => stdout.includes('/trpc/me 501'), 5000, 'the access log');
    expect(stdout).toMatch(/trpc GET \/trpc\/whoami 200 user_alice [\d.]+ms/);
    expect(stdout).toMatch(/trpc GET \/trpc\/whoami 401 anonymous [\d.]+ms/);
    expect(stdout + stderr).not.toContain(token.slice(-20));
    expect(stdout + stderr).not.toContain('OFFLINE DEV ISSUER');

    process.kill(-(child.pid as number), 'SIGTERM');
    await exited;
    child = undefined;
  });
});
