/**
 * The BUILT declarations of `clerk-api-auth/graphql` and `clerk-api-auth/apollo` compile in a
 * project that has no graphql-yoga (and no @envelop/*) installed, with `skipLibCheck: false`: an app
 * on Apollo Server, graphql-http or a plain `graphql()` call never needs GraphQL Yoga's types. And
 * `/graphql` compiles without `@apollo/server` too.
 *
 * tsdown builds the package into a temporary directory; each consumer is a temporary project whose
 * node_modules holds the package (package.json + dist) and links to only the libraries it is meant
 * to have. A probe that imports graphql-yoga must fail there, so the setup cannot pass by accident.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { versionInfo } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
let work = '';
let built = '';

const COMPILER_OPTIONS = {
  strict: true,
  skipLibCheck: false,
  noEmit: true,
  module: 'node16',
  moduleResolution: 'node16',
  target: 'ES2022',
  // @clerk/backend's own declarations name DOM types (JsonWebKey, RequestInfo), so its users need it.
  lib: ['ES2022', 'DOM'],
  types: ['node'],
};

const GRAPHQL_CONSUMER = `
import { buildSchema, graphql } from 'graphql';
import {
  clerkDirectiveTransformer,
  clerkDirectiveTypeDefs,
  clerkGraphQLHttp,
  clerkHttpResult,
  createClerkGraphQLContext,
  useClerk,
  type ClerkEnvelopPlugin,
  type ClerkGraphQLContext,
  type ClerkHttpResult,
} from 'clerk-api-auth/graphql';

const schema = clerkDirectiveTransformer(buildSchema(\`\${clerkDirectiveTypeDefs} type Query { secret: String @auth }\`));
const clerkContext = createClerkGraphQLContext();
export async function handle(request: Request): Promise<Response> {
  const contextValue: ClerkGraphQLContext = await clerkContext(request);
  const answer: ClerkHttpResult = clerkHttpResult(await graphql({ schema, source: '{ secret }', contextValue }));
  return Response.json(answer.body, { status: answer.status, headers: answer.headers });
}
export const plugin: ClerkEnvelopPlugin = useClerk();
export const { http, ws } = clerkGraphQLHttp();
`;

const APOLLO_CONSUMER = `
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { clerkApolloPlugin, type ClerkApolloPluginOptions } from 'clerk-api-auth/apollo';
import { clerkDirectiveTypeDefs, createClerkGraphQLContext, type ClerkGraphQLContext } from 'clerk-api-auth/graphql';

const options: ClerkApolloPluginOptions = { rejectUnauthorized: true };
const server = new ApolloServer<ClerkGraphQLContext>({
  typeDefs: [clerkDirectiveTypeDefs, 'type Query { me: String @auth }'],
  resolvers: { Query: { me: (_source: unknown, _args: unknown, ctx: ClerkGraphQLContext) => ctx.auth.userId } },
  plugins: [clerkApolloPlugin(options)],
});
export const started = startStandaloneServer(server, { context: createClerkGraphQLContext() });
`;

/** The same entries from CommonJS (the package's `require` condition and its `.d.cts` declarations). */
const REQUIRE_CONSUMER = `
import type { ClerkApolloPluginOptions } from 'clerk-api-auth/apollo';
import graphqlEntry = require('clerk-api-auth/graphql');
export const result: ReturnType<typeof graphqlEntry.clerkHttpResult> = graphqlEntry.clerkHttpResult({ data: null });
export const options: ClerkApolloPluginOptions = {};
`;

const PROBE = `import { createYoga } from 'graphql-yoga';\nexport const yoga = createYoga;\n`;

/** A consumer project: the built package, links to `libraries` only, and its sources. */
function consumer(name: string, libraries: string[], files: Record<string, string>): string {
  const dir = join(work, name);
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, 'clerk-api-auth'), { recursive: true });
  cpSync(join(built, 'dist'), join(modules, 'clerk-api-auth', 'dist'), { recursive: true });
  cpSync(join(built, 'package.json'), join(modules, 'clerk-api-auth', 'package.json'));
  for (const library of libraries) {
    mkdirSync(dirname(join(modules, library)), { recursive: true });
    symlinkSync(join(root, 'node_modules', library), join(modules, library), 'dir');
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
}

/** tsc over `files`: the errors in the consumer's code or in clerk-api-auth's declarations (other packages' are theirs). */
function compile(dir: string, files: string[]): string[] {
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: COMPILER_OPTIONS, files }));
  const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--pretty', 'false'], { cwd: dir, encoding: 'utf8' });
  const lines = `${run.stdout}${run.stderr}`.split('\n').filter((line) => /error TS\d+/.test(line));
  // Paths are relative to the project: linked libraries resolve outside it (`../`), the package inside.
  return lines.filter((line) => !line.startsWith('../') && !line.startsWith('/') && (!line.startsWith('node_modules/') || line.startsWith('node_modules/clerk-api-auth/')));
}

const CLERK_LIBRARIES = ['@clerk/backend', '@clerk/shared', '@types/node'];

beforeAll(() => {
  if (versionInfo.major !== 16) return;
  work = mkdtempSync(join(tmpdir(), 'clerk-api-auth-declarations-'));
  built = join(work, 'package');
  mkdirSync(built, { recursive: true });
  execFileSync('npx', ['tsdown', '--log-level', 'warn', '--out-dir', join(built, 'dist')], { cwd: root, stdio: 'pipe', env: { ...process.env, CLERK_TELEMETRY_DISABLED: '1' } });
  cpSync(join(root, 'package.json'), join(built, 'package.json'));
}, 120_000);

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

// The declarations are checked against graphql 16's types (what the built package is compiled with); once is enough.
describe.skipIf(versionInfo.major !== 16)('built declarations without graphql-yoga, skipLibCheck: false', () => {
  it('the /graphql and /apollo declarations name neither graphql-yoga nor @envelop; /graphql names no @apollo/server', () => {
    const code = (file: string) => readFileSync(join(built, 'dist', file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const file of ['graphql.d.mts', 'graphql.d.cts', 'apollo.d.mts', 'apollo.d.cts']) {
      expect(code(file)).not.toMatch(/from ["'](graphql-yoga|@envelop\/[^"']+)["']/);
    }
    for (const file of ['graphql.d.mts', 'graphql.d.cts']) expect(code(file)).not.toMatch(/["']@apollo\/server/);
    expect(code('apollo.d.mts')).toMatch(/from "@apollo\/server"/);
  });

  it('clerk-api-auth/graphql compiles with only graphql and @graphql-tools/utils installed (no graphql-yoga, no @apollo/server)', () => {
    const dir = consumer('graphql-only', ['graphql', '@graphql-tools/utils', ...CLERK_LIBRARIES], { 'src/index.ts': GRAPHQL_CONSUMER, 'src/probe.ts': PROBE });
    for (const absent of ['graphql-yoga', '@envelop/core', '@apollo/server']) expect(existsSync(join(dir, 'node_modules', absent))).toBe(false);
    // One program: the only error is the probe's, which proves graphql-yoga cannot be resolved here.
    const errors = compile(dir, ['src/index.ts', 'src/probe.ts']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^src\/probe\.ts\(1,\d+\): error TS2307: Cannot find module 'graphql-yoga'/);
  }, 120_000);

  it('clerk-api-auth/apollo (and /graphql) compile with @apollo/server, without graphql-yoga, from ESM and CommonJS', () => {
    const dir = consumer('apollo', ['graphql', '@graphql-tools/utils', '@apollo/server', ...CLERK_LIBRARIES], {
      'src/index.ts': APOLLO_CONSUMER,
      'src/require.cts': REQUIRE_CONSUMER,
      'src/probe.ts': PROBE,
    });
    expect(existsSync(join(dir, 'node_modules', 'graphql-yoga'))).toBe(false);
    const errors = compile(dir, ['src/index.ts', 'src/require.cts', 'src/probe.ts']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^src\/probe\.ts\(1,\d+\): error TS2307: Cannot find module 'graphql-yoga'/);
  }, 120_000);
});
