/**
 * What every GraphQL reference server must do as a child process (`npm run <script>`, env only):
 * use the configured keys, answer the contract's statuses over HTTP, log one line per request without
 * a token, and stop on SIGTERM.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { ADMIN, codes, gql, WRITER } from '../graphql/helpers.js';
import { startExample, type ExampleProcess } from './example-process.js';

export function exampleProcessSuite(script: string, name: string, defaultPort: number): void {
  let issuer: TestIssuer;
  let api: FakeClerkApi;
  let server: ExampleProcess | undefined;

  beforeAll(async () => {
    issuer = await createTestIssuer();
    api = await startFakeClerkApi({ issuer, users: [{ id: 'user_writer', email: 'writer@example.com' }] });
    server = await startExample(script, {
      CLERK_SECRET_KEY: issuer.secretKey,
      CLERK_JWT_KEY: issuer.jwtKey,
      CLERK_API_URL: api.apiUrl,
      CLERK_AUTHORIZED_PARTIES: 'http://localhost:3000',
    });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await api?.close();
  });

  describe(`npm run ${script} (child process, env-configured)`, () => {
    it('uses the configured keys, not the dev issuer', () => {
      expect(server?.output()).not.toContain('OFFLINE DEV ISSUER');
      expect(server?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    });

    it(`listens on ${defaultPort} when PORT is not set`, async () => {
      const unset = await startExample(script, { CLERK_JWT_KEY: issuer.jwtKey, PORT: '' });
      try {
        expect(unset.url).toBe(`http://127.0.0.1:${defaultPort}/graphql`);
        expect((await gql(unset.url, '{ health }')).body).toEqual({ data: { health: 'ok' } });
      } finally {
        await unset.stop();
      }
    });

    it('answers every status of the contract over HTTP, with no side effect when denied', async () => {
      const url = server?.url ?? '';
      const writer = await issuer.sessionToken({ ...WRITER, expiresInSeconds: 600 });
      const admin = await issuer.sessionToken({ ...ADMIN, expiresInSeconds: 600 });
      const count = async () => ((await gql(url, '{ adminStats { notes } }', { token: admin })).body.data?.adminStats as { notes: number }).notes;

      expect((await gql(url, '{ health }')).body).toEqual({ data: { health: 'ok' } });
      const anonymousMutation = await gql(url, 'mutation { createNote(text: "x") { id } }');
      expect(anonymousMutation.status).toBe(401);
      expect(anonymousMutation.headers.get('www-authenticate')).toBe('Bearer');
      expect(await count()).toBe(0);

      const created = await gql(url, 'mutation { createNote(text: "from the child") { id authorId } }', { token: writer });
      expect(created.body.data?.createNote).toMatchObject({ authorId: 'user_writer' });
      expect(await count()).toBe(1);

      const forbidden = await gql(url, '{ adminStats { notes } }', { token: writer });
      expect(forbidden.status).toBe(200);
      expect(codes(forbidden)).toEqual(['FORBIDDEN']);
      expect((await gql(url, '{ me { id email } }', { token: writer })).body).toEqual({ data: { me: { id: 'user_writer', email: 'writer@example.com' } } });

      const expired = await gql(url, '{ notes { id } }', { token: await issuer.sessionToken({ ...WRITER, expiresInSeconds: -60 }) });
      expect(expired.status).toBe(401);
      expect(expired.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="token-expired"');
      expect(JSON.stringify(expired.body)).not.toContain('"http"');
    });

    it('logs one line per request and never a token', () => {
      const output = server?.output() ?? '';
      expect(output).toMatch(new RegExp(`${name} POST /graphql 200 user_writer \\d+(\\.\\d+)?ms`));
      expect(output).toMatch(new RegExp(`${name} POST /graphql 401 anonymous \\d+(\\.\\d+)?ms`));
      expect(output).not.toMatch(/eyJ[\w-]+\.eyJ/);
      expect(output).not.toContain(issuer.secretKey);
    });

    it('stops on SIGTERM sent to its PID: the port is closed', async () => {
      const exit = await server?.stop();
      expect(exit?.closed).toBe(true);
      server = undefined;
    });
  });
}
