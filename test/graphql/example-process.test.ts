/**
 * `npm run example:graphql` as a real child process, configured only through its environment
 * (CLERK_SECRET_KEY + CLERK_JWT_KEY + CLERK_API_URL + CLERK_AUTHORIZED_PARTIES, PORT=0 for a free
 * port), as a deployment or a black-box suite starts it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { ADMIN, codes, gql, WRITER } from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let issuer: TestIssuer;
let api: FakeClerkApi;
let child: ChildProcess;
let url = '';
let output = '';

/** Stops the child's process group (npm, its shell, tsx and the server) by the child's PID. */
function stop(signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  }
}

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer, users: [{ id: 'user_writer', email: 'writer@example.com' }] });
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('CLERK_') && key !== 'PORT') env[key] = value;
  Object.assign(env, {
    CLERK_TELEMETRY_DISABLED: '1',
    CLERK_SECRET_KEY: issuer.secretKey,
    CLERK_JWT_KEY: issuer.jwtKey,
    CLERK_API_URL: api.apiUrl,
    CLERK_AUTHORIZED_PARTIES: 'http://localhost:3000',
    PORT: '0',
  });
  child = spawn('npm', ['run', '--silent', 'example:graphql'], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  url = await new Promise<string>((resolve, reject) => {
    const check = setInterval(() => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearInterval(check);
        resolve(match[1]);
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(check);
      reject(new Error(`example:graphql exited early (${String(code)}):\n${output}`));
    });
  });
}, 60_000);

afterAll(async () => {
  if (child) {
    const exited = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
    stop();
    await exited;
  }
  await api?.close();
});

describe('npm run example:graphql (child process, env-configured)', () => {
  it('uses the configured keys, not the dev issuer', () => {
    expect(output).not.toContain('OFFLINE DEV ISSUER');
  });

  it('answers every status of the contract over HTTP', async () => {
    const writer = await issuer.sessionToken({ ...WRITER, expiresInSeconds: 600 });
    const admin = await issuer.sessionToken({ ...ADMIN, expiresInSeconds: 600 });

    expect((await gql(url, '{ health }')).body).toEqual({ data: { health: 'ok' } });

    const anonymousMutation = await gql(url, 'mutation { createNote(text: "x") { id } }');
    expect(anonymousMutation.status).toBe(401);
    expect(anonymousMutation.headers.get('www-authenticate')).toBe('Bearer');

    const created = await gql(url, 'mutation { createNote(text: "from the child") { id authorId } }', { token: writer });
    expect(created.body.data?.createNote).toMatchObject({ authorId: 'user_writer' });

    const forbidden = await gql(url, '{ adminStats { notes } }', { token: writer });
    expect(forbidden.status).toBe(200);
    expect(codes(forbidden)).toEqual(['FORBIDDEN']);
    expect((await gql(url, '{ adminStats { notes } }', { token: admin })).body).toEqual({ data: { adminStats: { notes: 1 } } });

    expect((await gql(url, '{ me { id email } }', { token: writer })).body).toEqual({ data: { me: { id: 'user_writer', email: 'writer@example.com' } } });

    const garbage = await gql(url, '{ notes { id } }', { token: 'garbage.token.value' });
    expect(garbage.status).toBe(401);
    expect(garbage.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  });

  it('logs one line per request and never a token', () => {
    expect(output).toMatch(/graphql POST \/graphql 200 user_writer \d/);
    expect(output).toMatch(/graphql POST \/graphql 401 anonymous \d/);
    expect(output).not.toMatch(/eyJ[\w-]+\.eyJ/);
    expect(output).not.toContain(issuer.secretKey);
  });
});
