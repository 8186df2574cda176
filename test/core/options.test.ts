import { createServer } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClerkAuthConfigError, ClerkSecretKeyRequiredError, createClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';

let issuer: TestIssuer;
let api: FakeClerkApi;

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer, users: [{ id: 'user_1', email: 'ada@example.com' }] });
});
afterAll(() => api.close());

function configError(fn: () => unknown): ClerkAuthConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ClerkAuthConfigError);
    expect((error as ClerkAuthConfigError).code).toBe('CLERK_AUTH_CONFIG');
    return error as ClerkAuthConfigError;
  }
  throw new Error('expected a ClerkAuthConfigError');
}

describe('configuration is validated at creation, with messages that name the fix', () => {
  it('refuses no secret key and no JWT key', () => {
    const error = configError(() => createClerkAuth({ env: {} }));
    expect(error.message).toMatch(/CLERK_SECRET_KEY/);
    expect(error.message).toMatch(/CLERK_JWT_KEY/);
  });

  it('refuses a PEM that does not parse, without echoing it', () => {
    const bogus = '-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PUBLIC KEY-----';
    const error = configError(() => createClerkAuth({ env: {}, jwtKey: bogus }));
    expect(error.message).toMatch(/CLERK_JWT_KEY/);
    expect(error.message).not.toContain('bm90IGEga2V5');
    configError(() => createClerkAuth({ env: {}, jwtKey: 'hello' }));
    configError(() => createClerkAuth({ env: {}, jwtKey: '-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----' }));
  });

  it('refuses a private key and an EC key with a clear message', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const privatePem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(configError(() => createClerkAuth({ env: {}, jwtKey: privatePem })).message).toMatch(/private key/);
    expect(configError(() => createClerkAuth({ env: {}, jwtKey: privatePem })).message).not.toContain(privatePem.slice(40, 80));
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecPem = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(configError(() => createClerkAuth({ env: {}, jwtKey: ecPem })).message).toMatch(/RS256/);
  });

  it('refuses an authorized party that is not an origin', () => {
    for (const party of ['https://app.example.com/', 'https://app.example.com/path', 'app.example.com', '*']) {
      const error = configError(() => createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, authorizedParties: [party] }));
      expect(error.message).toContain(JSON.stringify(party));
    }
    configError(() => createClerkAuth({ env: { CLERK_JWT_KEY: issuer.jwtKey, CLERK_AUTHORIZED_PARTIES: 'https://ok.example, nope/' } }));
  });

  it('refuses a publishable key given as the secret key, and other malformed values', () => {
    expect(configError(() => createClerkAuth({ env: {}, secretKey: issuer.publishableKey })).message).toMatch(/publishable key/);
    configError(() => createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, publishableKey: 'nope' }));
    configError(() => createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, apiUrl: 'ftp://x' }));
    configError(() => createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, clockSkewInMs: -1 }));
    configError(() => createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, acceptsToken: 'cookie' as never }));
    configError(() => createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, acceptsToken: [] }));
  });

  it('accepts a 4096-bit JWT key (which @clerk/backend itself cannot load) and escaped newlines', async () => {
    const big = await createTestIssuer({ keySize: 4096 });
    const clerkAuth = createClerkAuth({ env: {}, jwtKey: big.jwtKey });
    const { auth, reason } = await clerkAuth.authenticate(await big.sessionToken({ userId: 'user_big' }));
    expect(reason).toBeNull();
    expect(auth.isAuthenticated && auth.tokenType === 'session_token' && auth.userId).toBe('user_big');

    const escaped = issuer.jwtKey.replace(/\n/g, '\\n');
    const fromEnv = createClerkAuth({ env: { CLERK_JWT_KEY: escaped } });
    expect((await fromEnv.authenticate(await issuer.sessionToken())).reason).toBeNull();
  });
});

describe('environment fallbacks', () => {
  it('reads CLERK_* once at creation; explicit options win', async () => {
    const env: Record<string, string | undefined> = {
      CLERK_JWT_KEY: issuer.jwtKey,
      CLERK_AUTHORIZED_PARTIES: 'https://app.example.com, https://admin.example.com',
    };
    const clerkAuth = createClerkAuth({ env });
    expect(clerkAuth.config.authorizedParties).toEqual(['https://app.example.com', 'https://admin.example.com']);
    expect(clerkAuth.config.networkless).toBe(true);
    const good = await issuer.sessionToken({ azp: 'https://admin.example.com' });
    const bad = await issuer.sessionToken({ azp: 'https://evil.example.com' });
    expect((await clerkAuth.authenticate(good)).reason).toBeNull();
    expect((await clerkAuth.authenticate(bad)).reason).toBe('token-invalid-authorized-parties');

    // Changing the environment later changes nothing: it was read once.
    env.CLERK_AUTHORIZED_PARTIES = 'https://evil.example.com';
    expect((await clerkAuth.authenticate(bad)).reason).toBe('token-invalid-authorized-parties');

    const explicit = createClerkAuth({ env, authorizedParties: ['https://evil.example.com'] });
    expect((await explicit.authenticate(bad)).reason).toBeNull();
  });

  it('secret key, API URL and version from the environment alone', async () => {
    api.resetCounts();
    const clerkAuth = createClerkAuth({
      env: { CLERK_SECRET_KEY: issuer.secretKey, CLERK_API_URL: api.apiUrl, CLERK_API_VERSION: 'v1' },
    });
    expect(clerkAuth.config.networkless).toBe(false);
    expect(clerkAuth.config.apiUrl).toBe(api.apiUrl);
    expect((await clerkAuth.authenticate(await issuer.sessionToken({ userId: 'user_1' }))).reason).toBeNull();
    expect(api.count('jwks')).toBe(1);
    const user = await clerkAuth.clerk.users.getUser('user_1');
    expect(user.primaryEmailAddress?.emailAddress).toBe('ada@example.com');
    expect(api.count('users.get')).toBe(1);
  });

  it('reads process.env when no env option is given', async () => {
    const saved = process.env.CLERK_JWT_KEY;
    process.env.CLERK_JWT_KEY = issuer.jwtKey;
    try {
      const clerkAuth = createClerkAuth();
      expect((await clerkAuth.authenticate(await issuer.sessionToken())).reason).toBeNull();
    } finally {
      if (saved === undefined) delete process.env.CLERK_JWT_KEY;
      else process.env.CLERK_JWT_KEY = saved;
    }
  });
});

describe('the Backend API client', () => {
  it('is created once per options set, not per request', async () => {
    const clerkAuth = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl });
    const first = clerkAuth.clerk;
    await clerkAuth.authenticate(await issuer.sessionToken());
    expect(clerkAuth.clerk).toBe(first);
  });

  it('is the user-supplied client when one is given', async () => {
    const own = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl }).clerk;
    const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, clerkClient: own });
    expect(clerkAuth.clerk).toBe(own);
  });

  it('fails with a clear error, and no network attempt, when only a JWT key is configured', async () => {
    let hits = 0;
    const trap = createServer((_req, res) => {
      hits += 1;
      res.end('{}');
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    const port = (trap.address() as { port: number }).port;
    try {
      const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, apiUrl: `http://127.0.0.1:${port}` });
      expect(() => clerkAuth.clerk.users).toThrow(ClerkSecretKeyRequiredError);
      expect(() => clerkAuth.clerk.users).toThrow(/CLERK_SECRET_KEY/);
      // Awaiting or serializing a context that holds the client must not throw.
      expect((clerkAuth.clerk as unknown as { then?: unknown }).then).toBeUndefined();
      expect(JSON.stringify({ clerk: clerkAuth.clerk })).toBe('{"clerk":{}}');
      await clerkAuth.authenticate(await issuer.sessionToken());
      await clerkAuth.authenticate(issuer.apiKey().token, { acceptsToken: 'any' });
      expect(hits).toBe(0);
    } finally {
      await new Promise<void>((resolve) => trap.close(() => resolve()));
    }
  });
});

describe('getToken on the signed-in auth object', () => {
  it('returns the session token itself, or a JWT-template token from the Backend API', async () => {
    const clerkAuth = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl });
    const token = await issuer.sessionToken({ userId: 'user_1', sessionId: 'sess_tpl' });
    const { auth } = await clerkAuth.authenticate(token);
    if (auth.tokenType !== 'session_token' || !auth.isAuthenticated) throw new Error('expected signed in');
    expect(await auth.getToken()).toBe(token);
    const templated = await auth.getToken({ template: 'supabase' });
    const claims = JSON.parse(Buffer.from((templated as string).split('.')[1] as string, 'base64url').toString());
    expect(claims).toMatchObject({ sub: 'user_1', sid: 'sess_tpl', template: 'supabase' });
    expect(api.count('sessions.token')).toBeGreaterThan(0);
  });

  it('in networkless mode, a template token is a clear ClerkSecretKeyRequiredError', async () => {
    const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
    const { auth } = await clerkAuth.authenticate(await issuer.sessionToken());
    if (auth.tokenType !== 'session_token' || !auth.isAuthenticated) throw new Error('expected signed in');
    await expect(auth.getToken({ template: 'x' })).rejects.toBeInstanceOf(ClerkSecretKeyRequiredError);
  });
});

describe('Backend API calls through clerk are bounded by apiTimeoutMs', () => {
  it('a slow API rejects with ClerkApiUnavailableError instead of hanging; a healthy one answers', async () => {
    const { ClerkApiUnavailableError } = await import('clerk-api-auth');
    const clerkAuth = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl, apiTimeoutMs: 300 });
    expect((await clerkAuth.clerk.users.getUser('user_1')).id).toBe('user_1');
    api.setFault({ mode: 'none', delayMs: 3000 });
    try {
      await expect(clerkAuth.clerk.users.getUser('user_1')).rejects.toBeInstanceOf(ClerkApiUnavailableError);
    } finally {
      api.setFault({ mode: 'none' });
    }
  });
});
