/**
 * GraphQL decisions are made per execution, never per context object. Some servers hand graphql-ws
 * ONE context object per connection (Yoga's documented uWebSockets / Bun wiring and the NestJS Yoga
 * driver call `yoga.getEnveloped(ctx)` with the connection's object), so several operations run on one
 * context at once; and a long-lived connection is decided per operation, so a token that expired a
 * moment ago reads nothing guarded — queries and mutations included, not only subscriptions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchema, createYoga } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Client } from 'graphql-ws';
import { createClerkAuth } from 'clerk-api-auth';
import { clerkDirectiveTypeDefs, useClerk } from 'clerk-api-auth/graphql';
import { createTestIssuer, type TestIssuer } from 'clerk-api-auth/testing';
import { listen, MEMBER, ADMIN, wsClient, type GraphQLResponse } from './helpers.js';
import { startOfSecond } from '../support/clock.js';

const TOP_SECRET = 'ADMIN_ONLY_VALUE';

const typeDefs = /* GraphQL */ `
  type Vault {
    secret: String @hasRole(role: "org:admin")
    open: String
  }
  type Query {
    slow(ms: Int!): Vault!
    me: String @auth
  }
  type Mutation {
    touch: Int! @auth
  }
`;

let issuer: TestIssuer;
let touched = 0;
let url = '';
let closeAll: () => Promise<void> = async () => {};

beforeAll(async () => {
  issuer = await createTestIssuer();
  const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, clockSkewInMs: 0 });
  const yoga = createYoga({
    schema: createSchema({
      typeDefs: [clerkDirectiveTypeDefs, typeDefs],
      resolvers: {
        Query: {
          // Nested fields resolve after this parent, so two operations on one connection interleave.
          slow: async (_: unknown, { ms }: { ms: number }) => {
            await new Promise((resolve) => setTimeout(resolve, ms));
            return { secret: TOP_SECRET, open: 'open' };
          },
          me: (_: unknown, __: unknown, ctx: { auth: { userId: string | null } }) => ctx.auth.userId,
        },
        Mutation: {
          touch: () => ++touched,
        },
      },
    }),
    plugins: [useClerk(clerkAuth)],
    logging: false,
  });
  type Enveloped = ReturnType<typeof yoga.getEnveloped>;
  const served = await listen(yoga);
  const wss = new WebSocketServer({ server: served.server, path: '/graphql' });
  const ws = useServer(
    {
      execute: (args) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        // The wiring under test: the connection's own context object, for every operation on it.
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped(ctx);
        const args = {
          schema,
          operationName: params.operationName,
          document: parse(params.query),
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        return errors.length > 0 ? errors : args;
      },
    },
    wss,
  );
  url = served.url;
  closeAll = async () => {
    await ws.dispose();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await served.close();
  };
});

afterAll(async () => {
  await closeAll();
});

/** Runs one query or mutation over the client and returns its single result. */
function run(client: Client, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse['body']> {
  return new Promise((resolve, reject) => {
    let last: GraphQLResponse['body'] | undefined;
    client.subscribe(
      { query, ...(variables && { variables }) },
      {
        next: (value) => {
          last = value as GraphQLResponse['body'];
        },
        error: (error) => (Array.isArray(error) ? resolve({ errors: error as GraphQLResponse['body']['errors'] }) : reject(error)),
        complete: () => resolve(last ?? {}),
      },
    );
  });
}

describe('one context object per graphql-ws connection', () => {
  it('two partially denied queries at once on one socket never read each other’s decision', async () => {
    const token = await issuer.sessionToken({ ...MEMBER, expiresInSeconds: 600 });
    const client = wsClient(url, { token });
    try {
      // Both are partial (a member is denied `secret`); A's nested fields resolve after B has started.
      const [a, b] = await Promise.all([
        run(client, '{ slow(ms: 80) { secret open } }'),
        run(client, '{ other: slow(ms: 10) { s: secret } }'),
      ]);
      expect(a.data).toEqual({ slow: { secret: null, open: 'open' } });
      expect(a.errors?.map((error) => [error.path, error.extensions?.code])).toEqual([[['slow', 'secret'], 'FORBIDDEN']]);
      expect(b.data).toEqual({ other: { s: null } });
      expect(b.errors?.map((error) => [error.path, error.extensions?.code])).toEqual([[['other', 's'], 'FORBIDDEN']]);
      expect(JSON.stringify([a, b])).not.toContain(TOP_SECRET);
    } finally {
      await client.dispose();
    }
  });

  it('many interleaved operations on one socket: none leaks, an admin on another socket still reads', async () => {
    const member = wsClient(url, { token: await issuer.sessionToken({ ...MEMBER, expiresInSeconds: 600 }) });
    const admin = wsClient(url, { token: await issuer.sessionToken({ ...ADMIN, expiresInSeconds: 600 }) });
    try {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => run(member, `{ v${i}: slow(ms: ${(i * 7) % 40}) { secret open } }`)),
      );
      for (const [i, result] of results.entries()) {
        expect(result.data).toEqual({ [`v${i}`]: { secret: null, open: 'open' } });
        expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      }
      expect(await run(admin, '{ slow(ms: 1) { secret } }')).toEqual({ data: { slow: { secret: TOP_SECRET } } });
    } finally {
      await member.dispose();
      await admin.dispose();
    }
  });
});

describe('a long-lived connection is decided per operation', () => {
  it('after the token expires, a query reads nothing guarded and a mutation does not run', async () => {
    // Issued 58 s ago, valid for 60 s: it expires two seconds into the connection (clock skew 0).
    await startOfSecond();
    const token = await issuer.sessionToken({ ...ADMIN, issuedAtOffsetSeconds: -58, expiresInSeconds: 60 });
    const client = wsClient(url, { token });
    try {
      expect(await run(client, '{ me }')).toEqual({ data: { me: ADMIN.userId } });
      const before = touched;
      expect((await run(client, 'mutation { touch }')).data).toEqual({ touch: before + 1 });

      await new Promise((resolve) => setTimeout(resolve, 2300));

      const query = await run(client, '{ me slow(ms: 1) { secret open } }');
      expect(JSON.stringify(query)).not.toContain(TOP_SECRET);
      expect(JSON.stringify(query)).not.toContain(ADMIN.userId);
      expect(query.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'token-expired' });

      const mutation = await run(client, 'mutation { touch }');
      expect(mutation.data ?? null).toBeNull();
      expect(mutation.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'token-expired' });
      expect(touched).toBe(before + 1);
    } finally {
      await client.dispose();
    }
  });
});

describe('clerkDirectiveTransformer on a connection authenticated once', () => {
  it('an operation after expiry is decided as signed out, though the context was built while valid', async () => {
    const { clerkDirectiveTransformer, createClerkGraphQLContext } = await import('clerk-api-auth/graphql');
    const { execute, parse } = await import('graphql');
    const clerkContext = createClerkGraphQLContext(createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, clockSkewInMs: 0 }));
    let ran = 0;
    const schema = clerkDirectiveTransformer(
      createSchema({
        typeDefs: [clerkDirectiveTypeDefs, 'type Query { me: String @auth } type Mutation { touch: Int! @auth }'],
        resolvers: { Query: { me: () => 'me' }, Mutation: { touch: () => ++ran } },
      }),
    );
    // A server that authenticates a connection once and reuses that context for every operation on it.
    await startOfSecond();
    const token = await issuer.sessionToken({ ...ADMIN, issuedAtOffsetSeconds: -59, expiresInSeconds: 60 });
    const connectionContext = await clerkContext({ connectionParams: { token } });
    expect(await execute({ schema, document: parse('{ me }'), contextValue: connectionContext })).toEqual({ data: { me: 'me' } });

    await new Promise((resolve) => setTimeout(resolve, 1200));

    const query = await execute({ schema, document: parse('{ me }'), contextValue: connectionContext });
    expect(query.data).toEqual({ me: null });
    expect(query.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'token-expired' });
    const mutation = await execute({ schema, document: parse('mutation { touch }'), contextValue: connectionContext });
    expect(mutation.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'token-expired' });
    expect(ran).toBe(0);
  });
});
