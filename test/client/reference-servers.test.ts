/**
 * The client helpers against the reference servers (examples/trpc, examples/graphql-yoga and
 * examples/express, in-process on loopback ports), with sessions whose token expires mid-session:
 * the first token works, then really expires (its `exp` plus the server's clock skew passes), and
 * the next call must recover by itself.
 *
 * - tRPC `httpBatchLink({ fetch: createClerkFetch({ getToken }) })`: a 401 `invalid_token` is retried
 *   once with `getToken({ skipCache: true })`, a mutation's body included, and runs once.
 * - A fetch-based GraphQL client on `createClerkFetch`: the same, for a mutation with variables.
 * - tRPC `wsLink` with `connectionParams: clerkConnectionParams(getToken)`: the server's `reconnect`
 *   notice moves a live subscription to a connection opened with a fresh token.
 * - graphql-ws with `connectionParams: clerkConnectionParams(getToken)`: the subscription ends with
 *   `UNAUTHENTICATED` at expiry, and subscribing again opens a connection with a fresh token.
 */
import { createTRPCClient, createWSClient, httpBatchLink, wsLink } from '@trpc/client';
import { createClient as createGraphQLWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { clerkConnectionParams, createClerkFetch } from 'clerk-api-auth/client';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type SessionTokenOptions, type TestIssuer } from 'clerk-api-auth/testing';
import { startExpressServer, type ExpressServer } from '../../examples/express/server.js';
import { startGraphQLServer, type GraphQLServer } from '../../examples/graphql-yoga/server.js';
import { startTrpcServer, type AppRouter, type TrpcServer } from '../../examples/trpc/server.js';

/** Clerk's default clock skew, which the reference servers use. */
const SKEW_MS = 5000;
const WRITER: SessionTokenOptions = { userId: 'user_writer', org: { id: 'org_1', role: 'member', permissions: ['org:notes:create'] } };

let issuer: TestIssuer;
let api: FakeClerkApi;
let trpcServer: TrpcServer;
let graphqlServer: GraphQLServer;
let expressServer: ExpressServer;
const log: string[] = [];

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer, users: [{ id: 'user_writer', email: 'writer@example.com' }] });
  const env: NodeJS.ProcessEnv = {
    CLERK_JWT_KEY: issuer.jwtKey,
    CLERK_SECRET_KEY: issuer.secretKey,
    CLERK_API_URL: api.apiUrl,
    CLERK_AUTHORIZED_PARTIES: 'http://localhost:3000',
    CLERK_WEBHOOK_SIGNING_SECRET: issuer.webhookSigningSecret,
  };
  const sink = (line: string) => void log.push(line);
  [trpcServer, graphqlServer, expressServer] = await Promise.all([
    startTrpcServer({ port: 0, env, log: sink }),
    startGraphQLServer({ port: 0, env, log: sink }),
    startExpressServer({ port: 0, env, log: sink }),
  ]);
});

afterAll(async () => {
  await Promise.all([trpcServer?.close(), graphqlServer?.close(), expressServer?.close()]);
  await api?.close();
});

/**
 * A signed-in tab as Clerk's `getToken` behaves: answers from its cache, mints a fresh token when
 * asked with `skipCache` (or when it has none). The tokens it mints live `lifetimes[0]`,
 * `lifetimes[1]`, ... seconds, the last value repeating: `[1, 60]` is a first token about to
 * expire, then Clerk's usual 60 s.
 */
function clerkSession(userId: string, lifetimes: readonly [number, ...number[]]) {
  const claims: SessionTokenOptions = { ...WRITER, userId };
  const calls: Array<{ skipCache: boolean }> = [];
  let minted = 0;
  let cached: Promise<string> | undefined;
  const session = {
    calls,
    /** When the first token stops verifying on the servers (its exp plus their clock skew). */
    deadline: Number.POSITIVE_INFINITY,
    getToken(options?: { skipCache?: boolean }): Promise<string> {
      calls.push({ skipCache: options?.skipCache === true });
      if (options?.skipCache === true || cached === undefined) {
        const lifetime = lifetimes[Math.min(minted, lifetimes.length - 1)] as number;
        if (minted === 0) session.deadline = Date.now() + lifetime * 1000 + SKEW_MS;
        minted += 1;
        cached = issuer.sessionToken({ ...claims, expiresInSeconds: lifetime });
      }
      return cached;
    },
  };
  return session;
}

/** A fetch that records each status, to see what `createClerkFetch` did on the wire. */
function recordingFetch(statuses: number[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    statuses.push(response.status);
    return response;
  };
}

/** A minimal fetch-based GraphQL client, as graphql-request or urql's fetch exchange would be. */
function graphqlClient(url: string, fetchImpl: typeof fetch) {
  return async <T>(query: string, variables?: Record<string, unknown>): Promise<{ status: number; data?: T; errors?: Array<{ extensions?: { code?: string } }> }> => {
    const response = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, ...((await response.json()) as { data?: T; errors?: Array<{ extensions?: { code?: string } }> }) };
  };
}

/** Resolves once `predicate()` holds, polling (running `poke` every 250 ms, if given); rejects after `timeoutMs`. Never asserts a time. */
async function until(predicate: () => boolean, timeoutMs: number, what: string, poke?: () => Promise<void>): Promise<void> {
  const started = Date.now();
  let poked = 0;
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    if (poke && Date.now() - poked >= 250) {
      poked = Date.now();
      await poke();
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('sessions whose token expires mid-session', () => {
  // One session per client, all started now; the first tokens expire together, so one wait serves all.
  const sessions = {} as Record<'trpcHttp' | 'graphqlHttp' | 'trpcWs' | 'graphqlWs', ReturnType<typeof clerkSession>>;
  const trpcStatuses: number[] = [];
  const graphqlStatuses: number[] = [];
  const before: Record<string, unknown> = {};
  let trpcHttp: ReturnType<typeof createTRPCClient<AppRouter>>;
  let gql: ReturnType<typeof graphqlClient>;
  let trpcWsClient: ReturnType<typeof createWSClient>;
  let trpcWs: ReturnType<typeof createTRPCClient<AppRouter>>;
  const wsNotes: Array<{ text: string }> = [];
  let wsError: unknown;
  let stopWsSubscription = (): void => {};
  let graphqlWs: ReturnType<typeof createGraphQLWsClient>;
  const graphqlWsResults: Array<{ data?: unknown; errors?: Array<{ extensions?: { code?: string; reason?: string } }> }> = [];
  let graphqlWsEnded: Promise<void>;

  beforeAll(async () => {
    sessions.trpcHttp = clerkSession('user_trpc_http', [1, 60]);
    sessions.graphqlHttp = clerkSession('user_graphql_http', [1, 60]);
    // Every token of this one lives 2 s: the server's reconnect notice (5 s, at most half the
    // credential's lifetime, before it stops verifying) comes while each is still valid.
    sessions.trpcWs = clerkSession('user_trpc_ws', [2]);
    sessions.graphqlWs = clerkSession('user_graphql_ws', [1, 60]);

    trpcHttp = createTRPCClient<AppRouter>({
      links: [httpBatchLink({ url: trpcServer.url, fetch: createClerkFetch({ getToken: sessions.trpcHttp.getToken, fetch: recordingFetch(trpcStatuses) }) })],
    });
    gql = graphqlClient(graphqlServer.url, createClerkFetch({ getToken: sessions.graphqlHttp.getToken, fetch: recordingFetch(graphqlStatuses) }));
    trpcWsClient = createWSClient({
      url: `${expressServer.url.replace(/^http/, 'ws')}/trpc`,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      connectionParams: clerkConnectionParams(sessions.trpcWs.getToken),
      retryDelayMs: () => 50,
    });
    trpcWs = createTRPCClient<AppRouter>({ links: [wsLink({ client: trpcWsClient })] });
    graphqlWs = createGraphQLWsClient({
      url: graphqlServer.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: clerkConnectionParams(sessions.graphqlWs.getToken),
      retryAttempts: 0,
    });

    // While the first tokens are valid: every client works.
    before.trpcHttp = (await trpcHttp.whoami.query()).userId;
    before.graphqlHttp = await gql<{ notes: unknown[] }>('{ notes { text } }');
    before.trpcWs = (await trpcWs.whoami.query()).userId;
    const subscription = trpcWs.notes.onAdded.subscribe(undefined, {
      onData: (note) => void wsNotes.push(note),
      onError: (error) => (wsError = error),
    });
    stopWsSubscription = () => subscription.unsubscribe();
    graphqlWsEnded = new Promise<void>((resolve) => {
      graphqlWs.subscribe<{ noteAdded: { text: string } }>(
        { query: 'subscription { noteAdded { text } }' },
        { next: (result) => void graphqlWsResults.push(result as (typeof graphqlWsResults)[number]), error: () => resolve(), complete: () => resolve() },
      );
    });

    await until(() => Object.values(sessions).every((session) => Number.isFinite(session.deadline)), 10_000, 'every client to fetch its first token');
    // Then the first tokens expire, for real, on the servers' clocks.
    const deadline = Math.max(...Object.values(sessions).map((session) => session.deadline)) + 300;
    await until(() => Date.now() > deadline, 20_000, 'the first tokens to expire');
  }, 30_000);

  afterAll(async () => {
    stopWsSubscription();
    await trpcWsClient?.close();
    await graphqlWs?.dispose();
  });

  it('tRPC httpBatchLink + createClerkFetch: a 401 invalid_token is retried once with a fresh token; the mutation runs once', async () => {
    expect(before.trpcHttp).toBe('user_trpc_http');
    const note = await trpcHttp.notes.create.mutate({ text: 'after expiry' });
    expect(note).toMatchObject({ text: 'after expiry', authorId: 'user_trpc_http' });
    expect(trpcStatuses).toEqual([200, 401, 200]);
    expect(sessions.trpcHttp.calls.filter((call) => call.skipCache)).toHaveLength(1);
    // The fresh token is cached now: a batch of two queries is one request, no retry.
    const [me, notes] = await Promise.all([trpcHttp.whoami.query(), trpcHttp.notes.list.query()]);
    expect(me.userId).toBe('user_trpc_http');
    expect(notes).toEqual([note]);
    expect(trpcStatuses).toEqual([200, 401, 200, 200]);
    expect(log.filter((line) => line.startsWith('trpc POST /trpc/notes.create ')).map((line) => line.split(' ')[3])).toEqual(['401', '200']);
  });

  it('fetch-based GraphQL client + createClerkFetch: the same for a mutation with variables', async () => {
    expect(before.graphqlHttp).toMatchObject({ status: 200, data: { notes: [] } });
    const created = await gql<{ createNote: { text: string; authorId: string } }>('mutation ($text: String!) { createNote(text: $text) { text authorId } }', { text: 'gql after expiry' });
    expect(created).toMatchObject({ status: 200, data: { createNote: { text: 'gql after expiry', authorId: 'user_graphql_http' } } });
    expect(graphqlStatuses).toEqual([200, 401, 200]);
    expect(sessions.graphqlHttp.calls.filter((call) => call.skipCache)).toHaveLength(1);
    expect((await gql<{ notes: Array<{ text: string }> }>('{ notes { text } }')).data).toEqual({ notes: [{ text: 'gql after expiry' }] });
  });

  it('tRPC wsLink + clerkConnectionParams: the live subscription moved to a connection with a fresh token', async () => {
    expect(before.trpcWs).toBe('user_trpc_ws');
    // Every connection asked Clerk for a fresh token; there were at least two (the reconnect).
    expect(sessions.trpcWs.calls.length).toBeGreaterThanOrEqual(2);
    expect(sessions.trpcWs.calls.every((call) => call.skipCache)).toBe(true);
    expect((await trpcWs.whoami.query()).userId).toBe('user_trpc_ws');
    // A note created now (over HTTP, same server) reaches the subscription opened before the expiry.
    // (A note created while the subscription moves between connections may be missed: retry.)
    const token = await issuer.sessionToken({ ...WRITER, userId: 'user_trpc_ws' });
    await until(
      () => wsNotes.length > 0 || wsError !== undefined,
      10_000,
      'a note on the subscription',
      async () => {
        const response = await fetch(`${expressServer.url}/trpc/notes.create`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ text: 'pushed after expiry' }),
        });
        expect(response.status).toBe(200);
      },
    );
    expect(wsError).toBeUndefined();
    expect(wsNotes[0]).toMatchObject({ text: 'pushed after expiry', authorId: 'user_trpc_ws' });
  });

  it('graphql-ws + clerkConnectionParams: the subscription ends UNAUTHENTICATED at expiry; subscribing again uses a fresh token', async () => {
    await graphqlWsEnded;
    expect(graphqlWsResults.at(-1)?.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'token-expired' });
    const callsBefore = sessions.graphqlWs.calls.length;

    const received = new Promise<unknown>((resolve, reject) => {
      const stop = graphqlWs.subscribe<{ noteAdded: { text: string } }>(
        { query: 'subscription { noteAdded { text } }' },
        {
          next: (result) => {
            stop();
            resolve(result);
          },
          error: reject,
          complete: () => reject(new Error('completed without a note')),
        },
      );
    });
    const token = await issuer.sessionToken({ ...WRITER, userId: 'user_graphql_ws' });
    let result: unknown = null;
    // The subscription is live once the server has it; create notes until one arrives.
    while (result === null) {
      const response = await fetch(graphqlServer.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation { createNote(text: "resubscribed") { id } }' }),
      });
      expect(response.status).toBe(200);
      result = await Promise.race([received, new Promise<null>((resolve) => setTimeout(() => resolve(null), 250))]);
    }
    expect(result).toEqual({ data: { noteAdded: { text: 'resubscribed' } } });
    expect(sessions.graphqlWs.calls.length).toBeGreaterThan(callsBefore);
    expect(sessions.graphqlWs.calls.every((call) => call.skipCache)).toBe(true);
  });
});
