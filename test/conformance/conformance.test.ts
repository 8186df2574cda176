/**
 * The conformance suite: the SAME cases (test/conformance/cases.ts) over real loopback HTTP against
 * every in-process reference server of examples/ (test/conformance/servers.ts), configured through
 * their env only, with real tokens from the test issuer and the loopback Backend API stand-in.
 * Prints a server × case table (pass / fail / n/a) and asserts every applicable cell passed.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { ADMIN, ALICE, MEMBER, WRITER } from '../graphql/helpers.js';
import { envFor } from '../support/env.js';
import { CASES, EVERY_401, type Case, type CaseContext, type Seen } from './cases.js';
import { SERVERS, type ConformanceServer, type Running } from './servers.js';

// Mercurius is CommonJS and loads graphql with Node's `require`; every module Vite loads gets that same
// instance, as a Node process running the examples has: one graphql realm (as test/mercurius does).
vi.mock('graphql', () => createRequire(import.meta.url)('graphql'));

/** `not run`: filtered out, or its server did not start (the table test counts it as a failure). */
type Cell = 'pass' | 'fail' | 'n/a' | 'not run';
const ALL_CASES: Case[] = [...CASES, EVERY_401];
const table = new Map<string, Map<string, Cell>>();

let issuer: TestIssuer;
let api: FakeClerkApi;
const tokens: CaseContext['tokens'] = { alice: '', member: '', admin: '', writer: '' };

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer, users: [{ id: 'user_alice', email: 'alice@example.com' }, { id: 'user_writer', email: 'writer@example.com' }] });
  const lifetime = { expiresInSeconds: 600 };
  tokens.alice = await issuer.sessionToken({ ...ALICE, ...lifetime });
  tokens.member = await issuer.sessionToken({ ...MEMBER, ...lifetime });
  tokens.admin = await issuer.sessionToken({ ...ADMIN, ...lifetime });
  tokens.writer = await issuer.sessionToken({ ...WRITER, ...lifetime });
});

afterAll(async () => {
  await api?.close();
  console.log(render());
});

function bodyOf(testCase: Case, server: ConformanceServer): ((ctx: CaseContext) => Promise<void>) | undefined {
  if (testCase.applies !== undefined && !testCase.applies(server)) return undefined;
  return server.kind === 'trpc' ? testCase.trpc : testCase.graphql;
}

function render(): string {
  const header = `| case | ${SERVERS.map((server) => server.name).join(' | ')} |`;
  const rule = `|---|${SERVERS.map(() => '---').join('|')}|`;
  const rows = ALL_CASES.map((testCase) => `| ${testCase.name} | ${SERVERS.map((server) => table.get(server.name)?.get(testCase.name) ?? 'not run').join(' | ')} |`);
  return ['', '### Conformance: server × case', '', header, rule, ...rows, ''].join('\n');
}

describe.each(SERVERS)('$name', (server) => {
  const cells = new Map<string, Cell>();
  table.set(server.name, cells);
  const seen: Seen[] = [];
  let running: Running | undefined;
  let ctx: CaseContext;

  beforeAll(async () => {
    // Configured through its env only: the public issuer env plus the secret key and the stand-in's URL.
    running = await server.start({ ...envFor(issuer), ...issuer.env(api) });
    const recording: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const what = `${init?.method ?? 'GET'} ${typeof input === 'string' ? input : input instanceof URL ? input.href : input.url}`;
      seen.push({ what, status: response.status, challenge: response.headers.get('www-authenticate') });
      return response;
    };
    ctx = { server, running, issuer, api, fetch: recording, seen, tokens };
  });
  afterAll(() => running?.close());

  for (const testCase of ALL_CASES) {
    const body = bodyOf(testCase, server);
    // A case the server has no feature for (e.g. subscriptions on Apollo or Lambda) registers no test:
    // it stands in the table as n/a, and the table test below checks that every other cell passed.
    if (body === undefined) {
      cells.set(testCase.name, 'n/a');
      continue;
    }
    cells.set(testCase.name, 'not run');
    it(testCase.name, { timeout: 30_000 }, async () => {
      cells.set(testCase.name, 'fail');
      await body(ctx);
      cells.set(testCase.name, 'pass');
    });
  }
});

describe('the table', () => {
  it('has every applicable cell passed, and each case applies somewhere on each side', () => {
    const failed = [...table].flatMap(([server, cells]) => [...cells].filter(([, cell]) => cell !== 'pass' && cell !== 'n/a').map(([name]) => `${server}: ${name}`));
    expect(failed).toEqual([]);
    expect(table.size).toBe(SERVERS.length);
    for (const cells of table.values()) expect(cells.size).toBe(ALL_CASES.length);
    for (const testCase of ALL_CASES) expect([...table.values()].some((cells) => cells.get(testCase.name) === 'pass'), testCase.name).toBe(true);
  });
});
