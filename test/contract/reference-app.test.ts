/**
 * The reference app's contract, on every server of this repository that serves it: the tRPC
 * procedures (examples/trpc, and examples/express which reuses its router) and the GraphQL schema
 * (examples/graphql-yoga, and examples/express which reuses it) are exactly the listed ones, each
 * with its guard and its return shape, checked over real loopback HTTP with real tokens — signed
 * out, with a token that lacks what the guard asks for, and with one that has it.
 */
import { reverificationError } from '@clerk/shared/authorization-errors';
import { buildASTSchema, isInterfaceType, isObjectType, parse, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clerkDirectiveTypeDefs } from 'clerk-api-auth/graphql';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type SessionTokenOptions, type TestIssuer } from 'clerk-api-auth/testing';
import { startExpressServer, type ExpressServer } from '../../examples/express/server.js';
import { typeDefs } from '../../examples/graphql-yoga/schema.js';
import { startGraphQLServer, type GraphQLServer } from '../../examples/graphql-yoga/server.js';
import { appRouter } from '../../examples/trpc/router.js';
import { startTrpcServer, type TrpcServer } from '../../examples/trpc/server.js';

let issuer: TestIssuer;
let api: FakeClerkApi;
let trpc: TrpcServer;
let yoga: GraphQLServer;
let express: ExpressServer;

const USERS = [
  { id: 'user_alice', email: 'alice@example.com' },
  { id: 'user_admin', email: 'admin@example.com' },
  { id: 'user_writer', email: 'writer@example.com' },
  { id: 'user_reporter', email: 'reporter@example.com' },
];
const CALLERS = {
  alice: { userId: 'user_alice' },
  member: { userId: 'user_alice', org: { id: 'org_1', role: 'member' } },
  admin: { userId: 'user_admin', org: { id: 'org_1', role: 'admin', permissions: ['org:notes:create'] } },
  writer: { userId: 'user_writer', org: { id: 'org_1', role: 'member', permissions: ['org:notes:create'] } },
  reporter: { userId: 'user_reporter', features: ['reports'] },
  stale: { userId: 'user_alice', factorVerificationAge: [30, -1] },
  fresh: { userId: 'user_alice', factorVerificationAge: [0, -1] },
} satisfies Record<string, SessionTokenOptions>;
type Caller = keyof typeof CALLERS | 'm2m' | 'apiKey' | 'none';

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer, users: USERS });
  const env = {
    PATH: process.env.PATH,
    CLERK_TELEMETRY_DISABLED: '1',
    CLERK_JWT_KEY: issuer.jwtKey,
    CLERK_SECRET_KEY: issuer.secretKey,
    CLERK_API_URL: api.apiUrl,
    CLERK_AUTHORIZED_PARTIES: 'http://localhost:3000',
    CLERK_WEBHOOK_SIGNING_SECRET: issuer.webhookSigningSecret,
  };
  const log = () => {};
  [trpc, yoga, express] = await Promise.all([startTrpcServer({ port: 0, env, log }), startGraphQLServer({ port: 0, env, log }), startExpressServer({ port: 0, env, log })]);
});

afterAll(async () => {
  await Promise.all([trpc?.close(), yoga?.close(), express?.close()]);
  await api?.close();
});

async function credential(caller: Caller): Promise<string | undefined> {
  if (caller === 'none') return undefined;
  if (caller === 'm2m') return issuer.m2mToken({ machineId: 'mch_contract' });
  if (caller === 'apiKey') return issuer.apiKey({ subject: 'org_contract' }).token;
  return issuer.sessionToken({ expiresInSeconds: 600, ...CALLERS[caller] });
}

// ── tRPC ─────────────────────────────────────────────────────────────────────────────────────────

interface Procedure {
  kind: 'query' | 'mutation' | 'subscription';
  input?: unknown;
  /** The statuses of callers the guard refuses, with the tRPC code. */
  refused: Array<[Caller, number, string]>;
  /** A caller the guard admits, and what the procedure returns to it. */
  admitted?: [Caller, unknown];
}

const PROCEDURES: Record<string, Procedure> = {
  health: { kind: 'query', refused: [], admitted: ['none', { ok: true }] },
  whoami: {
    kind: 'query',
    refused: [['none', 401, 'UNAUTHORIZED'], ['m2m', 401, 'UNAUTHORIZED']],
    admitted: ['admin', { userId: 'user_admin', sessionId: expect.stringMatching(/^sess_/), orgId: 'org_1', orgRole: 'org:admin', orgPermissions: ['org:notes:create'] }],
  },
  me: { kind: 'query', refused: [['none', 401, 'UNAUTHORIZED']], admitted: ['alice', { id: 'user_alice', email: 'alice@example.com' }] },
  'admin.stats': { kind: 'query', refused: [['none', 401, 'UNAUTHORIZED'], ['member', 403, 'FORBIDDEN']], admitted: ['admin', { notes: expect.any(Number) }] },
  'notes.list': { kind: 'query', refused: [['none', 401, 'UNAUTHORIZED']], admitted: ['alice', expect.any(Array)] },
  'notes.create': {
    kind: 'mutation',
    input: { text: 'contract' },
    refused: [['none', 401, 'UNAUTHORIZED'], ['member', 403, 'FORBIDDEN']],
    admitted: ['writer', { id: expect.stringMatching(/^note_/), text: 'contract', authorId: 'user_writer' }],
  },
  'machine.ping': { kind: 'query', refused: [['none', 401, 'UNAUTHORIZED'], ['alice', 401, 'UNAUTHORIZED']], admitted: ['m2m', { machineId: 'mch_contract' }] },
  'keys.ping': { kind: 'query', refused: [['none', 401, 'UNAUTHORIZED'], ['alice', 401, 'UNAUTHORIZED'], ['m2m', 401, 'UNAUTHORIZED']], admitted: ['apiKey', { subject: 'org_contract' }] },
  'reports.export': { kind: 'query', refused: [['none', 401, 'UNAUTHORIZED'], ['alice', 402, 'PAYMENT_REQUIRED']], admitted: ['reporter', { rows: expect.any(Number) }] },
  'account.rotateKey': { kind: 'mutation', refused: [['none', 401, 'UNAUTHORIZED'], ['stale', 403, 'FORBIDDEN']], admitted: ['fresh', { rotated: true }] },
  'notes.onAdded': { kind: 'subscription', refused: [] },
};

async function callTrpc(base: string, path: string, procedure: Procedure, caller: Caller) {
  const token = await credential(caller);
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const response =
    procedure.kind === 'mutation'
      ? await fetch(`${base}/${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(procedure.input ?? {}) })
      : await fetch(`${base}/${path}${procedure.input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(procedure.input))}`}`, { headers });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { result?: { data: unknown }; error?: { data: Record<string, unknown> } } };
}

describe('tRPC: the router has exactly the listed procedures, of the listed kinds', () => {
  it('examples/trpc/router.ts (shared by every tRPC server)', () => {
    const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>;
    expect(Object.fromEntries(Object.entries(procedures).map(([path, procedure]) => [path, procedure._def.type]))).toEqual(
      Object.fromEntries(Object.entries(PROCEDURES).map(([path, procedure]) => [path, procedure.kind])),
    );
  });
});

describe.each([
  ['examples/trpc', () => trpc.url],
  ['examples/express', () => `${express.url}/trpc`],
])('tRPC on %s: every procedure’s guard and return shape', (_name, base) => {
  const callable = Object.entries(PROCEDURES).filter(([, procedure]) => procedure.kind !== 'subscription');

  it.each(callable)('%s', async (path, procedure) => {
    for (const [caller, status, code] of procedure.refused) {
      const res = await callTrpc(base(), path, procedure, caller);
      expect(res.status, `${path} as ${caller}`).toBe(status);
      expect(res.body.error?.data.code, `${path} as ${caller}`).toBe(code);
      expect(res.headers.get('www-authenticate'), `${path} as ${caller}`).toMatch(status === 401 ? /^Bearer/ : /^Bearer error="insufficient_scope"$/);
      if (path === 'account.rotateKey' && status === 403) expect(res.body.error?.data.clerk_error).toEqual(reverificationError('strict').clerk_error);
      if (status === 402) expect(res.body.error?.data.missing).toEqual({ feature: ['reports'] });
    }
    if (procedure.admitted !== undefined) {
      const [caller, expected] = procedure.admitted;
      const res = await callTrpc(base(), path, procedure, caller);
      expect(res.status, `${path} as ${caller}`).toBe(200);
      expect(res.body.result?.data).toEqual(expected);
    }
  });
});

// ── GraphQL ──────────────────────────────────────────────────────────────────────────────────────

/** Every field of the listed types, with its arguments and type, printed. */
const SCHEMA: Record<string, Record<string, string>> = {
  Node: { id: 'ID!' },
  Note: { id: 'ID!', text: 'String!', authorId: 'ID!' },
  User: { id: 'ID!', email: 'String' },
  Stats: { notes: 'Int!' },
  Query: { health: 'String!', me: 'User', notes: '[Note!]!', 'node(id: ID!)': 'Node', adminStats: 'Stats', reportsExport: 'Int' },
  Mutation: { 'createNote(text: String!)': 'Note!', rotateKey: 'Boolean!' },
  Subscription: { noteAdded: 'Note!' },
};

function printed(schema: GraphQLSchema): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const name of Object.keys(SCHEMA)) {
    const type = schema.getType(name);
    if (!isObjectType(type) && !isInterfaceType(type)) continue;
    out[name] = Object.fromEntries(
      Object.values(type.getFields()).map((field) => [field.args.length === 0 ? field.name : `${field.name}(${field.args.map((arg) => `${arg.name}: ${String(arg.type)}`).join(', ')})`, String(field.type)]),
    );
  }
  return out;
}

interface Field {
  operation: string;
  refused: Array<[Caller, number, string]>;
  admitted: [Caller, unknown];
  /** `data` when a query field is denied (null propagates from a non-null field). Default `{ [field]: null }`. */
  deniedData?: unknown;
}

const FIELDS: Record<string, Field> = {
  health: { operation: '{ health }', refused: [], admitted: ['none', { health: 'ok' }] },
  me: { operation: '{ me { id email } }', refused: [['none', 200, 'UNAUTHENTICATED']], admitted: ['alice', { me: { id: 'user_alice', email: 'alice@example.com' } }] },
  notes: { operation: '{ notes { id text authorId } }', refused: [['none', 200, 'UNAUTHENTICATED']], admitted: ['alice', { notes: expect.any(Array) }], deniedData: null },
  node: { operation: '{ node(id: "note_none") { id } }', refused: [], admitted: ['none', { node: null }] },
  adminStats: { operation: '{ adminStats { notes } }', refused: [['none', 200, 'UNAUTHENTICATED'], ['member', 200, 'FORBIDDEN']], admitted: ['admin', { adminStats: { notes: expect.any(Number) } }] },
  reportsExport: { operation: '{ reportsExport }', refused: [['none', 200, 'UNAUTHENTICATED'], ['alice', 200, 'PAYMENT_REQUIRED']], admitted: ['reporter', { reportsExport: expect.any(Number) }] },
  createNote: {
    operation: 'mutation { createNote(text: "contract") { id text authorId } }',
    refused: [['none', 401, 'UNAUTHENTICATED'], ['member', 403, 'FORBIDDEN']],
    admitted: ['writer', { createNote: { id: expect.stringMatching(/^note_/), text: 'contract', authorId: 'user_writer' } }],
  },
  rotateKey: { operation: 'mutation { rotateKey }', refused: [['none', 401, 'UNAUTHENTICATED'], ['stale', 403, 'FORBIDDEN']], admitted: ['fresh', { rotateKey: true }] },
};

async function callGraphQL(url: string, query: string, caller: Caller) {
  const token = await credential(caller);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(token !== undefined && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { data?: Record<string, unknown> | null; errors?: Array<{ extensions?: Record<string, unknown> }> } };
}

describe('GraphQL: the schema has exactly the listed types and fields', () => {
  it('examples/graphql-yoga/schema.ts (shared by every SDL server)', () => {
    expect(printed(buildASTSchema(parse(`${clerkDirectiveTypeDefs}\n${typeDefs}`)))).toEqual(SCHEMA);
  });
});

describe.each([
  ['examples/graphql-yoga', () => yoga.url],
  ['examples/express', () => `${express.url}/graphql`],
])('GraphQL on %s: every field’s guard and answer', (_name, url) => {
  it.each(Object.entries(FIELDS))('%s', async (name, field) => {
    for (const [caller, status, code] of field.refused) {
      const res = await callGraphQL(url(), field.operation, caller);
      expect(res.status, `${name} as ${caller}`).toBe(status);
      expect(res.body.errors?.map((error) => error.extensions?.code), `${name} as ${caller}`).toEqual([code]);
      if (name === 'rotateKey' && status === 403) expect(res.body.errors?.[0]?.extensions?.clerk_error).toEqual(reverificationError('strict').clerk_error);
      if (code === 'PAYMENT_REQUIRED') expect(res.body.errors?.[0]?.extensions?.missing).toEqual({ feature: ['reports'] });
      if (status === 200) expect(res.body.data).toEqual('deniedData' in field ? field.deniedData : { [name]: null });
    }
    const [caller, expected] = field.admitted;
    const res = await callGraphQL(url(), field.operation, caller);
    expect(res.status, `${name} as ${caller}`).toBe(200);
    expect(res.body).toEqual({ data: expected });
  });
});
