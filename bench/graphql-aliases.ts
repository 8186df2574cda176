/**
 * Cost of a denial when one denied field is selected under many aliases (`{ a0: secret a1: secret … }`
 * from an anonymous caller): response bytes and time, with clerk-api-auth vs GraphQL Yoga without it
 * answering the same query, for 10, 1000 and 5000 aliases, in one process.
 *
 *   npx tsx bench/graphql-aliases.ts            (part of `npm run bench`; ALIAS_RUNS sets the rounds, default 7)
 *   TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx bench/graphql-aliases.ts   (on the built package, after `npx tsdown`)
 *
 * Every variant goes through `yoga.fetch` in-process (parsing, validation, context, execution, JSON),
 * except the transformer rows, which are plain `graphql()` calls. Variants:
 * - `Yoga, field returns null` (the baseline): no plugin; the field's resolver returns null.
 * - `Yoga, field throws`: no plugin; the field's resolver throws a GraphQLError for every alias (what
 *   a hand-written resolver check does).
 * - `useClerk, partial data`: `secret: String @auth` under useClerk, default mode (denied fields null).
 * - `useClerk, rejectUnauthorized`: the same, the query rejected whole (HTTP 401).
 * - `useClerk, mutation`: the field on Mutation: always rejected whole (HTTP 401).
 * - `transformer, partial data` vs `graphql(), field returns null`: clerkDirectiveTransformer on a plain
 *   `graphql()` call with a context from createClerkGraphQLContext.
 *
 * Every variant is called once to warm up (which sizes a batch of calls to about 20 ms), then its
 * batch runs once per round, rounds rotating the order, so a slow moment of the machine hits every
 * variant alike; a time is the median of the rounds' per-call means. (Forcing a GC before each
 * batch was tried: it shrinks the heap and slows every variant unevenly, so it is not done.) Ratios are
 * against the baseline of the same alias count (bytes and median time). The target: a
 * denial stays within a small constant factor of what the same query costs without the plugin,
 * whatever the alias count.
 */
import { pathToFileURL } from 'node:url';
import { GraphQLError, graphql, type GraphQLSchema } from 'graphql';
import { createSchema, createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { createClerkAuth } from 'clerk-api-auth';
import { clerkDirectiveTransformer, clerkDirectiveTypeDefs, createClerkGraphQLContext, useClerk } from 'clerk-api-auth/graphql';
import { createTestIssuer } from 'clerk-api-auth/testing';
import { median } from './median.js';

const COUNTS = [10, 1000, 5000] as const;

/** One summary line of this benchmark, for `npm run bench`. */
export interface AliasRow {
  aliases: number;
  variant: string;
  status: number;
  errors: number;
  bytes: number;
  ms: number;
  bytesRatio: number;
  timeRatio: number;
}

type AnyYoga = YogaServerInstance<Record<string, unknown>, Record<string, unknown>>;

const aliases = (count: number, field: string) => Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(' ');

/** Runs the benchmark, prints its table, and returns its rows. */
export async function benchGraphqlAliases(runs = Number(process.env.ALIAS_RUNS ?? 7)): Promise<AliasRow[]> {
  const issuer = await createTestIssuer();
  const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
  const yoga = (schema: GraphQLSchema, plugins: unknown[] = []): AnyYoga =>
    createYoga({ schema, plugins: plugins as Plugin[], logging: false, maskedErrors: true }) as unknown as AnyYoga;

  const sdl = (directive: string) => `type Query { health: String secret: String ${directive} } type Mutation { secret: String ${directive} }`;
  const returnsNull = { Query: { health: () => 'ok', secret: () => null }, Mutation: { secret: () => null } };
  const throws = {
    Query: {
      health: () => 'ok',
      secret: () => {
        throw new GraphQLError('Authentication required.', { extensions: { code: 'UNAUTHENTICATED' } });
      },
    },
  };
  const guardedSchema = () => createSchema({ typeDefs: [clerkDirectiveTypeDefs, sdl('@auth')], resolvers: returnsNull });

  const servers: Array<[string, AnyYoga, 'query' | 'mutation']> = [
    ['Yoga, field returns null (baseline)', yoga(createSchema({ typeDefs: sdl(''), resolvers: returnsNull })), 'query'],
    ['Yoga, field throws', yoga(createSchema({ typeDefs: sdl(''), resolvers: throws })), 'query'],
    ['useClerk, partial data', yoga(guardedSchema(), [useClerk(clerkAuth)]), 'query'],
    ['useClerk, rejectUnauthorized', yoga(guardedSchema(), [useClerk({ clerkAuth, rejectUnauthorized: true })]), 'query'],
    ['useClerk, mutation', yoga(guardedSchema(), [useClerk(clerkAuth)]), 'mutation'],
  ];
  const plainSchema = createSchema({ typeDefs: sdl(''), resolvers: returnsNull });
  const transformed = clerkDirectiveTransformer(guardedSchema());
  const context = createClerkGraphQLContext(clerkAuth);

  const rows: AliasRow[] = [];
  for (const count of COUNTS) {
    const query = `{ health ${aliases(count, 'secret')} }`;
    const calls: Array<[string, () => Promise<{ status: number; text: string }>]> = [];
    for (const [variant, server, kind] of servers) {
      const body = JSON.stringify({ query: kind === 'mutation' ? `mutation { ${aliases(count, 'secret')} }` : query });
      calls.push([
        variant,
        async () => {
          const response = await server.fetch('http://bench.local/graphql', {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
            body,
          });
          return { status: response.status, text: await response.text() };
        },
      ]);
    }
    for (const [variant, schema] of [
      ['graphql(), field returns null', plainSchema],
      ['transformer, partial data', transformed],
    ] as const) {
      calls.push([
        variant,
        async () => {
          const answer = await graphql({ schema, source: query, contextValue: await context(null) });
          return { status: 0, text: JSON.stringify(answer) };
        },
      ]);
    }
    // One warm-up each (which sizes a batch of calls to about 20 ms), then `runs` rounds, every
    // variant's batch once per round in a rotated order, so a slow moment of the machine hits every
    // variant alike; a sample is a batch's mean, and the median of the samples is kept.
    const answers = new Map<string, { status: number; text: string }>();
    const times = new Map<string, number[]>();
    const batches = new Map<string, number>();
    for (const [variant, call] of calls) {
      const start = performance.now();
      answers.set(variant, await call());
      batches.set(variant, Math.max(1, Math.min(50, Math.round(20 / Math.max(performance.now() - start, 0.01)))));
      times.set(variant, []);
    }
    for (let run = 0; run < runs; run++) {
      for (let i = 0; i < calls.length; i++) {
        const [variant, call] = calls[(i + run) % calls.length] as (typeof calls)[number];
        const batch = batches.get(variant) as number;
        const start = performance.now();
        for (let k = 0; k < batch; k++) answers.set(variant, await call());
        times.get(variant)?.push((performance.now() - start) / batch);
      }
    }
    const measured = calls.map(([variant]) => ({ variant, ...(answers.get(variant) as { status: number; text: string }), ms: median(times.get(variant) ?? []) }));
    const baseline = measured[0] as (typeof measured)[number];
    const plainBaseline = measured.find((row) => row.variant === 'graphql(), field returns null') as (typeof measured)[number];
    for (const row of measured) {
      const base = row.variant.startsWith('graphql()') || row.variant.startsWith('transformer') ? plainBaseline : baseline;
      const parsed = JSON.parse(row.text) as { errors?: unknown[] };
      rows.push({
        aliases: count,
        variant: row.variant,
        status: row.status,
        errors: parsed.errors?.length ?? 0,
        bytes: Buffer.byteLength(row.text),
        ms: row.ms,
        bytesRatio: Buffer.byteLength(row.text) / Buffer.byteLength(base.text),
        timeRatio: row.ms / base.ms,
      });
    }
  }

  console.log(
    `\nGraphQL: one denied field under N aliases, anonymous caller; median of ${runs} interleaved rounds (Node ${process.version}). ` +
      'Ratios against Yoga (or graphql()) answering the same query without the plugin, field returning null.\n',
  );
  console.table(
    rows.map((row) => ({
      aliases: row.aliases,
      variant: row.variant,
      'HTTP status': row.status === 0 ? '—' : row.status,
      errors: row.errors,
      bytes: row.bytes.toLocaleString('en'),
      '× bytes': `${row.bytesRatio.toFixed(2)}×`,
      'median ms': row.ms.toFixed(2),
      '× time': `${row.timeRatio.toFixed(2)}×`,
    })),
  );
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchGraphqlAliases();
}
