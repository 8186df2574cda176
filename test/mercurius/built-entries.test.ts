/**
 * The built `clerk-api-auth/mercurius` and `clerk-api-auth/pothos` entries, as consumers get them:
 *
 * - their declarations compile with `skipLibCheck: false` in consumers that install only what the
 *   entry needs: the Mercurius entry without graphql-yoga, Apollo, Pothos or even Mercurius's types;
 *   the Pothos entry without graphql-yoga, Mercurius or Apollo. Both as ESM (`import` → `.d.mts`) and
 *   CommonJS (`require` → `.d.cts`) consumers.
 * - they run in plain Node, CommonJS and ESM, with those libraries only (no Vite, one graphql as Node
 *   resolves it): a Fastify + Mercurius server over loopback HTTP, a Pothos schema built with the plugin.
 *
 * The package is built (tsdown) into a temporary directory, never into `dist/`, and copied into each
 * consumer's node_modules with its package.json; the libraries a consumer has are linked in.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
let workspace = '';
let built = '';

beforeAll(async () => {
  workspace = mkdtempSync(join(tmpdir(), 'clerk-api-auth-declarations-'));
  built = join(workspace, 'package');
  await run(process.execPath, [join(root, 'node_modules/tsdown/dist/run.mjs'), '--out-dir', join(built, 'dist'), '--log-level', 'error'], {
    cwd: root,
    env: { ...process.env, CLERK_TELEMETRY_DISABLED: '1' },
  });
  cpSync(join(root, 'package.json'), join(built, 'package.json'));
}, 180_000);

afterAll(() => {
  if (workspace !== '') rmSync(workspace, { recursive: true, force: true });
});

/**
 * @clerk/shared's own declarations (a dependency of the core, whatever the entry) do not compile with
 * `skipLibCheck: false`: they import its optional peers (`@stripe/stripe-js`, `@zxcvbn-ts/core`, ...)
 * and expect an augmentation from Clerk's UI packages. That is true of every consumer of
 * `@clerk/backend` and unrelated to the entry under test, so those diagnostics, and only those, are
 * set aside.
 */
const KNOWN_ELSEWHERE = /node_modules\/@clerk\/shared\/dist\//;

/** tsc's diagnostics, one per entry (with its continuation lines). */
function diagnostics(output: string): string[] {
  const found: string[] = [];
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    if (/^\s/.test(line) && found.length > 0) found[found.length - 1] += `\n${line}`;
    else found.push(line);
  }
  return found;
}

/** A consumer project with only `packages` (plus this package and its dependencies) installed; tsc's diagnostics. */
async function compile(name: string, packages: string[], files: Record<string, string>): Promise<{ code: number; output: string }> {
  const { code, output } = await compileRaw(name, packages, files);
  const all = diagnostics(output);
  const kept = all.filter((diagnostic) => !KNOWN_ELSEWHERE.test(diagnostic.split('(')[0] ?? ''));
  return { code: kept.length === 0 ? 0 : code, output: kept.join('\n') };
}

/** A consumer directory with only `packages` (plus this package and its dependencies) in node_modules. */
function consumer(name: string, packages: string[], files: Record<string, string>): string {
  const dir = join(workspace, name);
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@clerk'), { recursive: true });
  cpSync(built, join(modules, 'clerk-api-auth'), { recursive: true });
  for (const installed of ['@clerk/backend', '@clerk/shared', ...packages]) {
    mkdirSync(join(modules, installed, '..'), { recursive: true });
    symlinkSync(join(root, 'node_modules', installed), join(modules, installed), 'dir');
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

/** Runs a script of a consumer with Node; its stdout, parsed as JSON. */
async function runScript(dir: string, file: string): Promise<unknown> {
  const { stdout } = await run(process.execPath, [file], { cwd: dir, env: { PATH: process.env.PATH, CLERK_TELEMETRY_DISABLED: '1' } });
  return JSON.parse(stdout);
}

async function compileRaw(name: string, packages: string[], files: Record<string, string>): Promise<{ code: number; output: string }> {
  const dir = consumer(name, packages, files);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2023', 'DOM', 'DOM.Iterable'],
        types: packages.includes('@types/node') ? ['node'] : [],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
      },
      include: Object.keys(files),
    }),
  );
  try {
    const { stdout } = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

const mercuriusUse = `
const clerk = clerkMercurius({ rejectUnauthorized: true });
const context: MercuriusClerkContext<{ tenant: string }> = clerk.context(() => ({ tenant: 't1' }));
export async function userOf(request: MercuriusRequestLike): Promise<string | null> {
  const ctx = await context(request, undefined);
  return ctx.auth.tokenType === 'session_token' && ctx.auth.isAuthenticated ? ctx.auth.userId : ctx.tenant;
}
export const options = { ...clerk.options, subscription: clerk.subscription({ keepAlive: 10_000 }) };
`;

const pothosUse = `
const builder = new SchemaBuilder<{ Context: object }>({ plugins: [clerkPothosPlugin] });
builder.queryType({
  clerk: true,
  fields: (t) => ({
    stats: t.int({ clerk: { role: 'org:admin' }, resolve: () => 1 }),
    // @ts-expect-error: a misspelled requirement key is a compile error
    typo: t.int({ clerk: { rol: 'org:admin' }, resolve: () => 1 }),
  }),
});
export const schema = builder.toSchema();
`;

describe('built declarations, skipLibCheck: false, only what the entry needs', () => {
  it('clerk-api-auth/mercurius: ESM and CommonJS consumers with graphql only (no graphql-yoga, Apollo, Pothos, Mercurius or Fastify types)', async () => {
    const imports = `import { clerkMercurius, type MercuriusClerkContext, type MercuriusRequestLike } from 'clerk-api-auth/mercurius';\n`;
    // One project per module system: a program never loads both builds' declarations of a package.
    for (const [name, file] of [['mercurius-esm', 'esm.ts'], ['mercurius-cjs', 'cjs.cts']] as const) {
      const result = await compile(name, ['graphql'], { [file]: `${imports}${mercuriusUse}` });
      expect(result.output, name).toBe('');
      expect(result.code, name).toBe(0);
    }
  }, 120_000);

  it('clerk-api-auth/mercurius with Fastify and Mercurius: the options spread into app.register(mercurius, ...)', async () => {
    const result = await compile('mercurius-app', ['graphql', 'mercurius', 'fastify', '@types/node', '@types/ws'], {
      'app.ts': `import Fastify from 'fastify';
import mercurius from 'mercurius';
import { clerkMercurius } from 'clerk-api-auth/mercurius';

const clerk = clerkMercurius();
const app = Fastify();
await app.register(mercurius, { schema: 'type Query { a: String }', ...clerk.options, subscription: clerk.subscription() });
`,
    });
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);

  it('clerk-api-auth/pothos: ESM and CommonJS consumers with @pothos/core and graphql only; the option is typed', async () => {
    const imports = `import SchemaBuilder from '@pothos/core';\nimport { clerkPothosPlugin } from 'clerk-api-auth/pothos';\n`;
    for (const [name, file] of [['pothos-esm', 'esm.ts'], ['pothos-cjs', 'cjs.cts']] as const) {
      const result = await compile(name, ['graphql', '@pothos/core'], { [file]: `${imports}${pothosUse}` });
      expect(result.output, name).toBe('');
      expect(result.code, name).toBe(0);
    }
  }, 120_000);

  it('the check can fail: a wrong use of the typed option is reported', async () => {
    const result = await compile('pothos-wrong', ['graphql', '@pothos/core'], {
      'wrong.ts': `import SchemaBuilder from '@pothos/core';
import { clerkPothosPlugin } from 'clerk-api-auth/pothos';
const builder = new SchemaBuilder<{ Context: object }>({ plugins: [clerkPothosPlugin] });
builder.queryType({ fields: (t) => ({ a: t.int({ clerk: { role: 42 }, resolve: () => 1 }) }) });
`,
    });
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/wrong\.ts\(4,\d+\): error TS2322/);
  }, 120_000);
});

/** A Fastify + Mercurius server with clerkMercurius over loopback, asked as each kind of caller. */
const mercuriusScript = (load: string) => `${load}
const issuer = await createTestIssuer();
const clerk = clerkMercurius({ env: {}, jwtKey: issuer.jwtKey });
const app = Fastify();
await app.register(mercurius, {
  schema: [clerkDirectiveTypeDefs, 'type Query { me: String @auth } type Mutation { write: Boolean @hasPermission(permission: "org:notes:create") }'],
  resolvers: { Query: { me: (_r, _a, ctx) => ctx.auth.userId }, Mutation: { write: () => true } },
  ...clerk.options,
  subscription: clerk.subscription(),
});
await app.listen({ port: 0, host: '127.0.0.1' });
const url = 'http://127.0.0.1:' + app.server.address().port + '/graphql';
const ask = async (query, token) => {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: 'Bearer ' + token } : {}) }, body: JSON.stringify({ query }) });
  return { status: response.status, challenge: response.headers.get('www-authenticate'), body: await response.json() };
};
const member = await issuer.sessionToken({ userId: 'user_m', org: { id: 'org_1', role: 'member' } });
const results = {
  anonymous: await ask('mutation { write }'),
  forbidden: await ask('mutation { write }', member),
  expired: await ask('{ me }', await issuer.sessionToken({ userId: 'user_m', expiresInSeconds: -60 })),
  me: await ask('{ me }', member),
};
await app.close();
console.log(JSON.stringify(results));
`;

/** A Pothos schema with the plugin: its rule on the field, and a malformed rule refused at toSchema(). */
const pothosScript = (load: string) => `${load}
const builder = new SchemaBuilder({ plugins: [clerkPothosPlugin] });
builder.queryType({ fields: (t) => ({ a: t.string({ clerk: { role: 'org:admin' }, resolve: () => 'a' }) }) });
const rule = builder.toSchema().getQueryType().getFields().a.extensions.clerk;
const bad = new SchemaBuilder({ plugins: [clerkPothosPlugin] });
bad.queryType({ fields: (t) => ({ b: t.string({ clerk: { rol: 'x' }, resolve: () => 'b' }) }) });
let refused = null;
try { bad.toSchema(); } catch (error) { refused = error.code; }
console.log(JSON.stringify({ rule, refused }));
`;

describe('built entries at runtime, in plain Node, with only what each needs', () => {
  const mercuriusPackages = ['graphql', '@graphql-tools/utils', 'mercurius', 'fastify'];

  it.each([
    ['ESM', 'server.mjs', `import Fastify from 'fastify';\nimport mercurius from 'mercurius';\nimport { clerkDirectiveTypeDefs } from 'clerk-api-auth/graphql';\nimport { clerkMercurius } from 'clerk-api-auth/mercurius';\nimport { createTestIssuer } from 'clerk-api-auth/testing';`],
    ['CommonJS', 'server.cjs', `(async () => {\nconst Fastify = require('fastify');\nconst mercurius = require('mercurius');\nconst { clerkDirectiveTypeDefs } = require('clerk-api-auth/graphql');\nconst { clerkMercurius } = require('clerk-api-auth/mercurius');\nconst { createTestIssuer } = require('clerk-api-auth/testing');`],
  ])('clerk-api-auth/mercurius (%s): 401 / 403 / 401 invalid_token / 200 over loopback', async (_kind, file, load) => {
    const script = file.endsWith('.cjs') ? `${mercuriusScript(load)}})();\n` : mercuriusScript(load);
    const dir = consumer(`mercurius-run-${file}`, mercuriusPackages, { [file]: script });
    const results = (await runScript(dir, file)) as Record<string, { status: number; challenge: string | null; body: { data?: unknown; errors?: Array<{ extensions?: Record<string, unknown> }> } }>;
    expect(results.anonymous).toMatchObject({ status: 401, challenge: 'Bearer' });
    expect(results.anonymous?.body).not.toHaveProperty('data');
    expect(results.forbidden).toMatchObject({ status: 403, challenge: 'Bearer error="insufficient_scope"' });
    expect(results.expired).toMatchObject({ status: 401, challenge: 'Bearer error="invalid_token", error_description="token-expired"' });
    expect(results.me).toMatchObject({ status: 200, body: { data: { me: 'user_m' } } });
    expect(JSON.stringify(results)).not.toContain('"http"');
  }, 60_000);

  it.each([
    ['ESM', 'schema.mjs', `import SchemaBuilder from '@pothos/core';\nimport { clerkPothosPlugin } from 'clerk-api-auth/pothos';`],
    ['CommonJS', 'schema.cjs', `const SchemaBuilder = require('@pothos/core').default;\nconst { clerkPothosPlugin } = require('clerk-api-auth/pothos');`],
  ])('clerk-api-auth/pothos (%s): the plugin registers, writes the rule, refuses a malformed one', async (_kind, file, load) => {
    const dir = consumer(`pothos-run-${file}`, ['graphql', '@graphql-tools/utils', '@pothos/core'], { [file]: pothosScript(load) });
    expect(await runScript(dir, file)).toEqual({ rule: { role: 'org:admin' }, refused: 'CLERK_AUTH_CONFIG' });
  }, 60_000);
});
