/**
 * `npm run example:apollo` and `npm run example:graphql-http` as real child processes, configured
 * only through their environment (CLERK_SECRET_KEY + CLERK_JWT_KEY + CLERK_API_URL +
 * CLERK_AUTHORIZED_PARTIES, PORT=0 for a free port), as a deployment or a black-box suite starts
 * them, and stopped by their PID. A child runs on Node's own resolution (graphql 16), so this file
 * runs on the graphql 16 suite only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { versionInfo } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { ADMIN, codes, gql, WRITER, wsClient, wsCollect } from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

// The spawned servers run on the repository's graphql 16 whatever the run's graphql, so the graphql 17 run skips them;
// graphql-ws is only checked where the server has it (Apollo has no WebSocket transport).
describe.skipIf(versionInfo.major !== 16).each([
  { script: 'example:apollo', name: 'apollo', ws: false },
  { script: 'example:graphql-http', name: 'graphql-http', ws: true },
])('npm run $script (child process, env-configured)', ({ script, name, ws }) => {
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
    child = spawn('npm', ['run', '--silent', script], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
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
        reject(new Error(`${script} exited early (${String(code)}):\n${output}`));
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

  it('uses the configured keys, not the dev issuer, on /graphql', () => {
    expect(output).not.toContain('OFFLINE DEV ISSUER');
    expect(new URL(url).pathname).toBe('/graphql');
  });

  it('answers every status of the contract over HTTP, never with `extensions.http` in the body', async () => {
    const writer = await issuer.sessionToken({ ...WRITER, expiresInSeconds: 600 });
    const admin = await issuer.sessionToken({ ...ADMIN, expiresInSeconds: 600 });
    const expired = await issuer.sessionToken({ ...WRITER, expiresInSeconds: -60, issuedAtOffsetSeconds: -120 });
    const bodies: unknown[] = [];
    const call = async (query: string, token?: string) => {
      const response = await gql(url, query, token === undefined ? {} : { token });
      bodies.push(response.body);
      return response;
    };

    expect((await call('{ health }')).body).toEqual({ data: { health: 'ok' } });

    const anonymousMutation = await call('mutation { createNote(text: "x") { id } }');
    expect(anonymousMutation.status).toBe(401);
    expect(anonymousMutation.headers.get('www-authenticate')).toBe('Bearer');

    const created = await call('mutation { createNote(text: "from the child") { id authorId } }', writer);
    expect(created.status).toBe(200);
    expect(created.body.data?.createNote).toMatchObject({ authorId: 'user_writer' });

    const forbidden = await call('{ adminStats { notes } }', writer);
    expect(forbidden.status).toBe(200);
    expect(codes(forbidden)).toEqual(['FORBIDDEN']);
    // One note: the anonymous mutation stored nothing.
    expect((await call('{ adminStats { notes } }', admin)).body).toEqual({ data: { adminStats: { notes: 1 } } });

    expect((await call('{ me { id email } }', writer)).body).toEqual({ data: { me: { id: 'user_writer', email: 'writer@example.com' } } });

    const stale = await call('{ notes { id } }', expired);
    expect(stale.status).toBe(401);
    expect(stale.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="token-expired"');

    const garbage = await call('{ notes { id } }', 'garbage.token.value');
    expect(garbage.status).toBe(401);
    expect(garbage.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);

    expect(JSON.stringify(bodies)).not.toMatch(/"http"/);
  });

  it.skipIf(!ws)('serves graphql-ws subscriptions on the same path', async () => {
    const writer = await issuer.sessionToken({ ...WRITER, expiresInSeconds: 600 });
    const anonymous = await wsCollect(wsClient(url), 'subscription { noteAdded { id } }').results;
    expect(anonymous[0]?.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'token-missing' });
    const sub = wsCollect(wsClient(url, { authorization: `Bearer ${writer}` }), 'subscription { noteAdded { text } }', 1);
    await sub.started;
    let delivered: unknown = null;
    for (let attempt = 0; attempt < 40 && delivered === null; attempt++) {
      await gql(url, 'mutation { createNote(text: "over ws") { id } }', { token: writer });
      delivered = await Promise.race([sub.results, new Promise<null>((resolve) => setTimeout(() => resolve(null), 100))]);
    }
    expect(delivered).toEqual([{ data: { noteAdded: { text: 'over ws' } } }]);
  });

  it('logs one line per request and never a token', () => {
    expect(output).toMatch(new RegExp(`${name} POST /graphql 200 user_writer \\d`));
    expect(output).toMatch(new RegExp(`${name} POST /graphql 401 anonymous \\d`));
    expect(output).not.toMatch(/eyJ[\w-]+\.eyJ/);
    expect(output).not.toContain(issuer.secretKey);
  });
});
