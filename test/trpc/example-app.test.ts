/**
 * The reference app's tRPC server (examples/trpc), started in-process on a loopback port with its
 * configuration in env vars only, called over real HTTP with @trpc/client and with raw fetch.
 */
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { ADMIN, ALICE, WRITER, client, envFor, errorCode, get, post, singleClient, startExample, until, type AppRouter } from './helpers.js';

let issuer: TestIssuer;
let api: FakeClerkApi;
let server: Awaited<ReturnType<typeof startExample>>;
let url: string;
const tokens: Record<'alice' | 'admin' | 'writer' | 'm2m', string> = { alice: '', admin: '', writer: '', m2m: '' };

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({
    issuer,
    users: [
      { id: 'user_alice', email: 'alice@example.com' },
      { id: 'user_admin', email: 'admin@example.com' },
      { id: 'user_writer', email: 'writer@example.com' },
    ],
  });
  // Both keys: networkless verification with CLERK_JWT_KEY, Backend API calls with CLERK_SECRET_KEY.
  server = await startExample(envFor(issuer, { CLERK_SECRET_KEY: issuer.secretKey, CLERK_API_URL: api.apiUrl }));
  url = server.url;
  tokens.alice = await issuer.sessionToken({ ...ALICE, expiresInSeconds: 600 });
  tokens.admin = await issuer.sessionToken({ ...ADMIN, expiresInSeconds: 600 });
  tokens.writer = await issuer.sessionToken({ ...WRITER, expiresInSeconds: 600 });
  tokens.m2m = await issuer.m2mToken({ machineId: 'mch_billing', scopes: ['mch_notes'] });
});

afterAll(async () => {
  await server?.close();
  await api?.close();
});

describe('health (public)', () => {
  it('answers signed out, signed in, and with a broken token alike', async () => {
    for (const options of [{}, { token: tokens.alice }, { token: 'not-a-jwt' }, { token: tokens.m2m }]) {
      const res = await get(url, 'health', options);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ result: { data: { ok: true } } });
      expect(res.headers.get('www-authenticate')).toBeNull();
    }
  });
});

describe('whoami (signed in)', () => {
  it('is 401 UNAUTHORIZED with a bare Bearer challenge when no token is sent', async () => {
    const res = await get(url, 'whoami');
    expect(res.status).toBe(401);
    expect(errorCode(res.body)).toBe('UNAUTHORIZED');
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('is 401 invalid_token for a token that fails verification, and never echoes it', async () => {
    const forged = `${tokens.alice.slice(0, -4)}AAAA`;
    for (const token of ['garbage', forged]) {
      const res = await get(url, 'whoami', { token });
      expect(res.status).toBe(401);
      expect(errorCode(res.body)).toBe('UNAUTHORIZED');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
      expect(JSON.stringify(res.body)).not.toContain(token);
    }
  });

  it('is 401 for an expired token, a pending session, another authorized party, and a machine token', async () => {
    const cases: Array<[string, string]> = [
      [await issuer.sessionToken({ ...ALICE, expiresInSeconds: -60 }), 'token-expired'],
      [await issuer.sessionToken({ ...ALICE, status: 'pending' }), 'session-pending'],
      [await issuer.sessionToken({ ...ALICE, azp: 'https://evil.example' }), 'token-invalid-authorized-parties'],
      [tokens.m2m, 'token-type-mismatch'],
    ];
    for (const [token, reason] of cases) {
      const res = await get(url, 'whoami', { token });
      expect(res.status, reason).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(`Bearer error="invalid_token", error_description="${reason}"`);
      expect((res.body as { error: { message: string } }).error.message).toContain(reason);
    }
  });

  it('returns the caller, with the scheme read case-insensitively', async () => {
    const res = await get(url, 'whoami', { authorization: `bEaReR ${tokens.admin}` });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      result: {
        data: {
          userId: 'user_admin',
          sessionId: expect.stringMatching(/^sess_/),
          orgId: 'org_1',
          orgRole: 'org:admin',
          orgPermissions: ['org:notes:create'],
        },
      },
    });
    const me = await client(url, tokens.alice).whoami.query();
    expect(me).toMatchObject({ userId: 'user_alice', orgId: null, orgRole: null, orgPermissions: [] });
  });
});

describe('me (ctx.clerk.users.getUser)', () => {
  it('is 401 signed out, and returns { id, email } from the Backend API signed in', async () => {
    expect((await get(url, 'me')).status).toBe(401);
    const before = api.count('users.get');
    expect(await singleClient(url, tokens.alice).me.query()).toEqual({ id: 'user_alice', email: 'alice@example.com' });
    expect(api.count('users.get')).toBe(before + 1);
  });

  it('is 404 NOT_FOUND, not a 500, for a user the Backend API does not know', async () => {
    const ghost = await issuer.sessionToken({ userId: 'user_ghost' });
    const res = await get(url, 'me', { token: ghost });
    expect(res.status).toBe(404);
    expect(errorCode(res.body)).toBe('NOT_FOUND');
  });
});

describe('admin.stats (role org:admin)', () => {
  it('is 401 signed out or with a broken token', async () => {
    expect((await get(url, 'admin.stats')).status).toBe(401);
    expect((await get(url, 'admin.stats', { token: 'x.y.z' })).status).toBe(401);
  });

  it('is 403 FORBIDDEN with an insufficient_scope challenge for a member without the role', async () => {
    for (const token of [tokens.alice, tokens.writer]) {
      const res = await get(url, 'admin.stats', { token });
      expect(res.status).toBe(403);
      expect(errorCode(res.body)).toBe('FORBIDDEN');
      expect(res.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
    }
  });

  it('counts every note in the store for an admin', async () => {
    const res = await get(url, 'admin.stats', { token: tokens.admin });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ result: { data: { notes: server.notes.count() } } });
  });
});

describe('notes.create (permission org:notes:create) and notes.list (signed in)', () => {
  it('refuses signed-out and unpermitted callers without creating anything', async () => {
    const before = server.notes.count();
    const signedOut = await post(url, 'notes.create', { text: 'hi' });
    expect(signedOut.status).toBe(401);
    const badInputSignedOut = await post(url, 'notes.create', { nope: 1 });
    expect(badInputSignedOut.status).toBe(401); // authentication is decided before the input is read
    const unpermitted = await post(url, 'notes.create', { text: 'hi' }, tokens.alice);
    expect(unpermitted.status).toBe(403);
    expect(errorCode(unpermitted.body)).toBe('FORBIDDEN');
    expect(server.notes.count()).toBe(before);
  });

  it('creates a note for a permitted caller, and rejects bad input with 400', async () => {
    const created = await client(url, tokens.writer).notes.create.mutate({ text: '  buy milk ' });
    expect(created).toEqual({ id: expect.stringMatching(/^note_/), text: 'buy milk', authorId: 'user_writer' });
    for (const body of [{ text: '' }, { text: 42 }, {}, 'text']) {
      const res = await post(url, 'notes.create', body, tokens.writer);
      expect(res.status).toBe(400);
      expect(errorCode(res.body)).toBe('BAD_REQUEST');
    }
    const raw = await fetch(`${url}/notes.create`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.writer}` }, body: '{"text":' });
    expect(raw.status).toBe(400);
  });

  it("lists only the caller's own notes", async () => {
    await client(url, tokens.admin).notes.create.mutate({ text: 'admin note' });
    const mine = await client(url, tokens.writer).notes.list.query();
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((note) => note.authorId === 'user_writer')).toBe(true);
    expect(await client(url, tokens.alice).notes.list.query()).toEqual([]);
    expect((await get(url, 'notes.list')).status).toBe(401);
  });
});

describe('machine.ping (m2m token)', () => {
  it('answers the machine id to an M2M token', async () => {
    expect(await singleClient(url, tokens.m2m).machine.ping.query()).toEqual({ machineId: 'mch_billing' });
  });

  it('is 401 for a session token, an OAuth token, or no token', async () => {
    const oauth = await issuer.oauthToken({ userId: 'user_alice' });
    for (const token of [tokens.admin, oauth, undefined]) {
      const res = await get(url, 'machine.ping', token === undefined ? {} : { token });
      expect(res.status).toBe(401);
      expect(errorCode(res.body)).toBe('UNAUTHORIZED');
    }
  });
});

describe('batching', () => {
  function recordingClient(token: string | undefined, statuses: number[]) {
    return createTRPCClient<AppRouter>({
      links: [
        httpBatchLink({
          url,
          headers: () => (token === undefined ? {} : { authorization: `Bearer ${token}` }),
          fetch: async (input, init) => {
            const response = await fetch(input, init);
            statuses.push(response.status);
            return response;
          },
        }),
      ],
    });
  }

  it('answers a mixed batch with 207: public calls succeed, guarded ones get 401', async () => {
    for (const token of [undefined, 'broken.token.here']) {
      const statuses: number[] = [];
      const trpc = recordingClient(token, statuses);
      const [health, whoami, stats, list] = await Promise.allSettled([trpc.health.query(), trpc.whoami.query(), trpc.admin.stats.query(), trpc.notes.list.query()]);
      expect(statuses).toEqual([207]);
      expect(health).toEqual({ status: 'fulfilled', value: { ok: true } });
      for (const result of [whoami, stats, list]) {
        expect(result.status).toBe('rejected');
        expect((result as PromiseRejectedResult).reason.data).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401 });
      }
    }
  });

  it('mixes 200 and 403 in one batch for a signed-in member, and 200 for a batch that all succeeds', async () => {
    const statuses: number[] = [];
    const trpc = recordingClient(tokens.alice, statuses);
    const [whoami, stats] = await Promise.allSettled([trpc.whoami.query(), trpc.admin.stats.query()]);
    expect(whoami.status).toBe('fulfilled');
    expect((stats as PromiseRejectedResult).reason.data).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403 });
    await Promise.all([trpc.health.query(), trpc.whoami.query()]);
    expect(statuses).toEqual([207, 200]);
  });

  it('carries the WWW-Authenticate challenge on a raw mixed batch', async () => {
    const res = await get(url, 'health,whoami', { batch: true, token: 'broken' });
    expect(res.status).toBe(207);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(res.body).toEqual([{ result: { data: { ok: true } } }, { error: expect.objectContaining({ data: expect.objectContaining({ code: 'UNAUTHORIZED' }) }) }]);
  });
});

describe('notes.onAdded (subscription over SSE)', () => {
  it('answers a plain HTTP client 401 with the challenge when signed out or with a broken token, and 200 signed in', async () => {
    const signedOut = await fetch(`${url}/notes.onAdded`);
    expect(signedOut.status).toBe(401);
    expect(signedOut.headers.get('www-authenticate')).toBe('Bearer');
    expect(await signedOut.text()).toContain('"code":"UNAUTHORIZED"');
    const broken = await fetch(`${url}/notes.onAdded`, { headers: { authorization: 'Bearer broken' } });
    expect(broken.status).toBe(401);
    expect(broken.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    await broken.body?.cancel();
    const controller = new AbortController();
    const signedIn = await fetch(`${url}/notes.onAdded`, { headers: { authorization: `Bearer ${tokens.writer}` }, signal: controller.signal });
    expect(signedIn.status).toBe(200);
    expect(signedIn.headers.get('content-type')).toBe('text/event-stream');
    controller.abort();
  });

  it('keeps status 200 for EventSource clients, which read the error from the stream', async () => {
    const res = await fetch(`${url}/notes.onAdded`, { headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(await res.text()).toContain('event: serialized-error');
  });

  it('ends at once with UNAUTHORIZED when signed out', async () => {
    const error = await new Promise<unknown>((resolve) => {
      client(url).notes.onAdded.subscribe(undefined, { onError: resolve, onData: () => resolve(new Error('unexpected data')) });
    });
    expect(error).toMatchObject({ data: { code: 'UNAUTHORIZED' } });
  });

  it("delivers the caller's new notes, then ends with UNAUTHORIZED when the token expires", async () => {
    // Expired 3 s ago, within Clerk's 5 s clock skew: accepted now, and for about 2 s more.
    const shortLived = await issuer.sessionToken({ ...WRITER, issuedAtOffsetSeconds: -60, expiresInSeconds: 57 });
    const received: unknown[] = [];
    let started = false;
    let ended: unknown;
    const subscription = client(url, shortLived).notes.onAdded.subscribe(undefined, {
      onStarted: () => {
        started = true;
      },
      onData: (note) => received.push(note),
      onError: (error) => {
        ended = error;
      },
      onComplete: () => {
        ended ??= 'completed';
      },
    });
    try {
      await until(() => started, 10_000, 'the subscription to start');
      await client(url, tokens.admin).notes.create.mutate({ text: 'not for the writer' });
      const note = await client(url, tokens.writer).notes.create.mutate({ text: 'for the writer' });
      await until(() => received.length > 0, 10_000, 'the note');
      expect(received).toEqual([note]);
      await until(() => ended !== undefined, 15_000, 'the subscription to end');
      expect(ended).toMatchObject({ data: { code: 'UNAUTHORIZED' }, message: expect.stringContaining('token-expired') });
    } finally {
      subscription.unsubscribe();
    }
  });
});

describe('access log', () => {
  it('logs one line per request with the user or anonymous, and never a token', async () => {
    const before = server.log.length;
    await get(url, 'whoami', { token: tokens.alice });
    await get(url, 'whoami');
    const lines = server.log.slice(before);
    expect(lines).toEqual([expect.stringMatching(/^trpc GET \/trpc\/whoami 200 user_alice [\d.]+ms$/), expect.stringMatching(/^trpc GET \/trpc\/whoami 401 anonymous [\d.]+ms$/)]);
    const all = server.log.join('\n');
    for (const token of Object.values(tokens)) expect(all).not.toContain(token.slice(-16));
  });
});
