/**
 * The conformance cases: one named case per behaviour of the reference app's contract, each with a
 * tRPC body and/or a GraphQL body (a missing body, or a server without the feature, is n/a). Every
 * request goes over real loopback HTTP through the context's recording `fetch`, so the cross-cutting
 * rule (a `WWW-Authenticate` on every 401) is checked over every answer the cases saw.
 */
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { GraphQLClient } from 'graphql-request';
import { expect } from 'vitest';
import { createClerkFetch } from 'clerk-api-auth/client';
import type { FakeClerkApi, TestIssuer } from 'clerk-api-auth/testing';
import type { AppRouter } from '../../examples/trpc/router.js';
import { ADMIN, ALICE, codes, MEMBER, nextEvent, sse, WRITER, wsClient, wsCollect, type GraphQLResponse } from '../graphql/helpers.js';
import { client as trpcClient } from '../trpc/helpers.js';
import type { ConformanceServer, Running } from './servers.js';

export interface Seen {
  what: string;
  status: number;
  challenge: string | null;
}

export interface CaseContext {
  server: ConformanceServer;
  running: Running;
  issuer: TestIssuer;
  api: FakeClerkApi;
  /** `fetch`, recording every answer in `seen`. */
  fetch: typeof fetch;
  seen: Seen[];
  tokens: { alice: string; member: string; admin: string; writer: string };
}

export interface Case {
  name: string;
  trpc?: (ctx: CaseContext) => Promise<void>;
  graphql?: (ctx: CaseContext) => Promise<void>;
  /** Whether the server has the feature (default: yes). */
  applies?: (server: ConformanceServer) => boolean;
}

const EXPIRED_CHALLENGE = 'Bearer error="invalid_token", error_description="token-expired"';
const MISMATCH_CHALLENGE = 'Bearer error="invalid_token", error_description="token-type-mismatch"';

// ── tRPC over raw HTTP ───────────────────────────────────────────────────────────────────────────

interface TrpcAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

async function trpcGet(ctx: CaseContext, paths: string, token?: string, batch = false): Promise<TrpcAnswer> {
  const query = batch ? `?batch=1&input=${encodeURIComponent('{}')}` : '';
  const response = await ctx.fetch(`${ctx.running.url}/${paths}${query}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: response.status, headers: response.headers, body: (await response.json()) as unknown };
}

async function trpcPost(ctx: CaseContext, path: string, input: unknown, token?: string): Promise<TrpcAnswer> {
  const response = await ctx.fetch(`${ctx.running.url}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token !== undefined && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(input),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as unknown };
}

const trpcCode = (body: unknown): unknown => (body as { error?: { data?: { code?: string } } }).error?.data?.code;
const trpcData = (body: unknown): unknown => (body as { result?: { data?: unknown } }).result?.data;

// ── GraphQL over raw HTTP ────────────────────────────────────────────────────────────────────────

async function gql(ctx: CaseContext, query: string, token?: string): Promise<GraphQLResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await ctx.fetch(ctx.running.url, { method: 'POST', headers, body: JSON.stringify({ query }) });
  return { status: response.status, headers: response.headers, body: JSON.parse(await response.text()) as GraphQLResponse['body'] };
}

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A fetch that records the statuses it saw (for the refresh cases). */
function statusRecorder(ctx: CaseContext): { fetch: typeof fetch; statuses: number[] } {
  const statuses: number[] = [];
  return {
    statuses,
    fetch: async (input, init) => {
      const response = await ctx.fetch(input, init);
      statuses.push(response.status);
      return response;
    },
  };
}

export const CASES: Case[] = [
  {
    name: 'signed out → 401 + WWW-Authenticate: Bearer',
    async trpc(ctx) {
      const answer = await trpcGet(ctx, 'whoami');
      expect(answer.status).toBe(401);
      expect(trpcCode(answer.body)).toBe('UNAUTHORIZED');
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    },
    async graphql(ctx) {
      // A denied mutation is rejected whole (queries answer partial data instead; see below).
      const answer = await gql(ctx, 'mutation { createNote(text: "anonymous") { id } }');
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
      // No data: absent (Yoga, Apollo, Mercurius) or null (graphql-http).
      expect(answer.body.data ?? null).toBeNull();
      expect(codes(answer)).toEqual(['UNAUTHENTICATED']);
    },
  },
  {
    name: 'signed in → 200 with the right user',
    async trpc(ctx) {
      const answer = await trpcGet(ctx, 'whoami', ctx.tokens.alice);
      expect(answer.status).toBe(200);
      expect(trpcData(answer.body)).toMatchObject({ userId: 'user_alice' });
      expect(answer.headers.get('www-authenticate')).toBeNull();
    },
    async graphql(ctx) {
      const before = ctx.api.count('users.get');
      const answer = await gql(ctx, '{ me { id email } }', ctx.tokens.alice);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ data: { me: { id: 'user_alice', email: 'alice@example.com' } } });
      expect(ctx.api.count('users.get')).toBe(before + 1);
    },
  },
  {
    name: 'role: member 403 insufficient_scope (GraphQL: FORBIDDEN at the field), admin 200',
    async trpc(ctx) {
      const member = await trpcGet(ctx, 'admin.stats', ctx.tokens.member);
      expect(member.status).toBe(403);
      expect(trpcCode(member.body)).toBe('FORBIDDEN');
      expect(member.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
      const admin = await trpcGet(ctx, 'admin.stats', ctx.tokens.admin);
      expect(admin.status).toBe(200);
      expect(trpcData(admin.body)).toEqual({ notes: ctx.running.store.count() });
    },
    async graphql(ctx) {
      const member = await gql(ctx, '{ health adminStats { notes } }', ctx.tokens.member);
      expect(member.status).toBe(200);
      expect(member.body.data).toEqual({ health: 'ok', adminStats: null });
      expect(codes(member)).toEqual(['FORBIDDEN']);
      expect(member.body.errors?.[0]?.path).toEqual(['adminStats']);
      const admin = await gql(ctx, '{ adminStats { notes } }', ctx.tokens.admin);
      expect(admin.status).toBe(200);
      expect(admin.body).toEqual({ data: { adminStats: { notes: ctx.running.store.count() } } });
    },
  },
  {
    name: 'permission: notes.create / createNote without it 403, with it 200',
    async trpc(ctx) {
      const member = await trpcPost(ctx, 'notes.create', { text: 'no permission' }, ctx.tokens.member);
      expect(member.status).toBe(403);
      expect(trpcCode(member.body)).toBe('FORBIDDEN');
      expect(member.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
      const writer = await trpcPost(ctx, 'notes.create', { text: 'permitted' }, ctx.tokens.writer);
      expect(writer.status).toBe(200);
      expect(trpcData(writer.body)).toMatchObject({ text: 'permitted', authorId: 'user_writer' });
    },
    async graphql(ctx) {
      const member = await gql(ctx, 'mutation { createNote(text: "no permission") { id } }', ctx.tokens.member);
      expect(member.status).toBe(403);
      expect(member.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
      expect(codes(member)).toEqual(['FORBIDDEN']);
      const writer = await gql(ctx, 'mutation { createNote(text: "permitted") { text authorId } }', ctx.tokens.writer);
      expect(writer.status).toBe(200);
      expect(writer.body).toEqual({ data: { createNote: { text: 'permitted', authorId: 'user_writer' } } });
    },
  },
  {
    name: 'expired token → 401 invalid_token / token-expired',
    async trpc(ctx) {
      const answer = await trpcGet(ctx, 'whoami', await ctx.issuer.sessionToken({ ...ALICE, expiresInSeconds: -60 }));
      expect(answer.status).toBe(401);
      expect(trpcCode(answer.body)).toBe('UNAUTHORIZED');
      expect(answer.headers.get('www-authenticate')).toBe(EXPIRED_CHALLENGE);
    },
    async graphql(ctx) {
      const answer = await gql(ctx, '{ health notes { id } }', await ctx.issuer.sessionToken({ ...ALICE, expiresInSeconds: -60 }));
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe(EXPIRED_CHALLENGE);
      expect(answer.body.data ?? null).toBeNull();
      expect(answer.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'token-expired' });
    },
  },
  {
    name: 'M2M token on machine.ping → 200 machine id',
    async trpc(ctx) {
      const answer = await trpcGet(ctx, 'machine.ping', await ctx.issuer.m2mToken({ machineId: 'mch_conformance' }));
      expect(answer.status).toBe(200);
      expect(trpcData(answer.body)).toEqual({ machineId: 'mch_conformance' });
    },
  },
  {
    name: 'M2M token on a session guard → 401 token-type-mismatch',
    async trpc(ctx) {
      const answer = await trpcGet(ctx, 'whoami', await ctx.issuer.m2mToken({ machineId: 'mch_conformance' }));
      expect(answer.status).toBe(401);
      expect(trpcCode(answer.body)).toBe('UNAUTHORIZED');
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(answer.headers.get('www-authenticate')).toBe(MISMATCH_CHALLENGE);
      expect(JSON.stringify(answer.body)).toContain('token-type-mismatch');
    },
    async graphql(ctx) {
      const answer = await gql(ctx, '{ notes { id } }', await ctx.issuer.m2mToken({ machineId: 'mch_conformance' }));
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe(MISMATCH_CHALLENGE);
      expect(answer.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'token-type-mismatch' });
    },
  },
  {
    name: 'API key on keys.ping → 200 (verified at the Backend API stand-in)',
    async trpc(ctx) {
      const key = ctx.issuer.apiKey({ subject: 'org_conformance' });
      const before = ctx.api.count('api_keys.verify');
      const answer = await trpcGet(ctx, 'keys.ping', key.token);
      expect(answer.status).toBe(200);
      expect(trpcData(answer.body)).toEqual({ subject: 'org_conformance' });
      expect(ctx.api.count('api_keys.verify')).toBe(before + 1);
    },
  },
  {
    name: 'mixed tRPC batch → 207 with the batch’s one challenge',
    async trpc(ctx) {
      const signedOut = await trpcGet(ctx, 'health,whoami,admin.stats', undefined, true);
      expect(signedOut.status).toBe(207);
      expect(signedOut.headers.get('www-authenticate')).toBe('Bearer');
      expect(signedOut.body).toMatchObject([
        { result: { data: { ok: true } } },
        { error: { data: { code: 'UNAUTHORIZED', httpStatus: 401 } } },
        { error: { data: { code: 'UNAUTHORIZED', httpStatus: 401 } } },
      ]);
      const member = await trpcGet(ctx, 'whoami,admin.stats', ctx.tokens.member, true);
      expect(member.status).toBe(207);
      expect(member.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
      expect(member.body).toMatchObject([{ result: { data: { userId: 'user_member' } } }, { error: { data: { code: 'FORBIDDEN', httpStatus: 403 } } }]);
    },
  },
  {
    name: 'GraphQL partial data with null propagation (anonymous)',
    async graphql(ctx) {
      const nullable = await gql(ctx, '{ health me { id } }');
      expect(nullable.status).toBe(200);
      expect(nullable.body.data).toEqual({ health: 'ok', me: null });
      expect(nullable.body.errors?.[0]).toMatchObject({ path: ['me'], extensions: { code: 'UNAUTHENTICATED', reason: 'token-missing' } });
      const nonNull = await gql(ctx, '{ health notes { id } }');
      expect(nonNull.status).toBe(200);
      expect(nonNull.body.data).toBeNull();
      expect(codes(nonNull)).toEqual(['UNAUTHENTICATED']);
      expect(nonNull.body.errors?.[0]?.path).toEqual(['notes']);
    },
  },
  {
    name: 'denied mutation has no side effect (store count unchanged)',
    async trpc(ctx) {
      const before = ctx.running.store.count();
      const expired = await ctx.issuer.sessionToken({ ...WRITER, expiresInSeconds: -60 });
      expect((await trpcPost(ctx, 'notes.create', { text: 'denied' })).status).toBe(401);
      expect((await trpcPost(ctx, 'notes.create', { text: 'denied' }, ctx.tokens.member)).status).toBe(403);
      expect((await trpcPost(ctx, 'notes.create', { text: 'denied' }, expired)).status).toBe(401);
      expect(ctx.running.store.count()).toBe(before);
      // The count does move when the call is admitted.
      expect((await trpcPost(ctx, 'notes.create', { text: 'admitted' }, ctx.tokens.writer)).status).toBe(200);
      expect(ctx.running.store.count()).toBe(before + 1);
    },
    async graphql(ctx) {
      const before = ctx.running.store.count();
      const expired = await ctx.issuer.sessionToken({ ...WRITER, expiresInSeconds: -60 });
      expect((await gql(ctx, 'mutation { createNote(text: "denied") { id } }')).status).toBe(401);
      expect((await gql(ctx, 'mutation { createNote(text: "denied") { id } }', ctx.tokens.member)).status).toBe(403);
      expect((await gql(ctx, 'mutation { createNote(text: "denied") { id } }', expired)).status).toBe(401);
      expect(ctx.running.store.count()).toBe(before);
      expect((await gql(ctx, 'mutation { createNote(text: "admitted") { id } }', ctx.tokens.writer)).status).toBe(200);
      expect(ctx.running.store.count()).toBe(before + 1);
    },
  },
  {
    name: 'subscription ends with token-expired at expiry',
    applies: (server) => server.subscriptions !== 'none',
    async trpc(ctx) {
      // Expired 3 s ago, within Clerk's 5 s clock skew: accepted now, and for about 2 s more.
      const shortLived = await ctx.issuer.sessionToken({ ...WRITER, issuedAtOffsetSeconds: -60, expiresInSeconds: 57 });
      let started = false;
      let ended: unknown;
      const subscription = trpcClient(ctx.running.url, shortLived).notes.onAdded.subscribe(undefined, {
        onStarted: () => {
          started = true;
        },
        onError: (error) => {
          ended = error;
        },
        onComplete: () => {
          ended ??= 'completed';
        },
      });
      try {
        await until(() => started || ended !== undefined, 10_000, 'the subscription to start');
        await until(() => ended !== undefined, 15_000, 'the subscription to end');
        expect(ended).toMatchObject({ data: { code: 'UNAUTHORIZED' }, message: expect.stringContaining('token-expired') });
      } finally {
        subscription.unsubscribe();
      }
    },
    async graphql(ctx) {
      const shortLived = await ctx.issuer.sessionToken({ ...WRITER, expiresInSeconds: -3 });
      if (ctx.server.subscriptions === 'ws') {
        const client = wsClient(ctx.running.url, { authorization: `Bearer ${shortLived}` });
        try {
          const results = await wsCollect(client, 'subscription { noteAdded { id } }').results;
          expect(results).toHaveLength(1);
          expect(results[0]?.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'token-expired' });
        } finally {
          await client.dispose();
        }
        return;
      }
      const stream = await sse(ctx.running.url, 'subscription { noteAdded { id } }', shortLived);
      try {
        expect(stream.status).toBe(200);
        const last = await nextEvent(stream.events);
        expect(last.payload?.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'token-expired' });
        expect((await nextEvent(stream.events)).event).toBe('complete');
      } finally {
        stream.close();
      }
    },
  },
  {
    name: 'createClerkFetch refreshes an expired token exactly once (@trpc/client / graphql-request)',
    async trpc(ctx) {
      const asked: boolean[] = [];
      let cached: Promise<string> = ctx.issuer.sessionToken({ ...WRITER, expiresInSeconds: -60 });
      const getToken = (options?: { skipCache?: boolean }): Promise<string> => {
        asked.push(options?.skipCache === true);
        if (options?.skipCache === true) cached = Promise.resolve(ctx.tokens.writer);
        return cached;
      };
      const recorder = statusRecorder(ctx);
      const trpc = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: ctx.running.url, fetch: createClerkFetch({ getToken, fetch: recorder.fetch }) })] });
      const [who, notes] = await Promise.all([trpc.whoami.query(), trpc.notes.list.query()]);
      expect(who.userId).toBe('user_writer');
      expect(Array.isArray(notes)).toBe(true);
      expect(recorder.statuses).toEqual([401, 200]);
      expect(asked).toEqual([false, true]);
    },
    async graphql(ctx) {
      const expired = await ctx.issuer.sessionToken({ ...WRITER, expiresInSeconds: -60 });
      const asked: boolean[] = [];
      const getToken = async (options?: { skipCache?: boolean }): Promise<string> => {
        asked.push(options?.skipCache === true);
        return options?.skipCache === true ? ctx.tokens.writer : expired;
      };
      const recorder = statusRecorder(ctx);
      const client = new GraphQLClient(ctx.running.url, { fetch: createClerkFetch({ getToken, fetch: recorder.fetch }) });
      const data = await client.request<{ notes: Array<{ authorId: string }> }>('{ notes { authorId } }');
      expect(data.notes.length).toBeGreaterThan(0);
      expect(data.notes.every((note) => note.authorId === 'user_writer')).toBe(true);
      expect(recorder.statuses).toEqual([401, 200]);
      expect(asked).toEqual([false, true]);
    },
  },
];

/** The last case of every server: over every answer the cases above saw. */
export const EVERY_401: Case = {
  name: 'WWW-Authenticate on every 401 the suite saw',
  async trpc(ctx) {
    everyUnauthorizedChallenged(ctx);
  },
  async graphql(ctx) {
    everyUnauthorizedChallenged(ctx);
  },
};

function everyUnauthorizedChallenged(ctx: CaseContext): void {
  const unauthorized = ctx.seen.filter((seen) => seen.status === 401);
  expect(unauthorized.length).toBeGreaterThanOrEqual(5);
  for (const seen of unauthorized) expect(seen.challenge, seen.what).toMatch(/^Bearer( error="invalid_token"|$)/);
}
