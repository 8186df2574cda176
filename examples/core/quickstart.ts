/**
 * The core in thirty lines, fully offline: mint real Clerk-format tokens with the test issuer and
 * authenticate requests with them, networklessly (JWT public key only).
 *
 *   npm run example:core
 */
import { checkRequirement, createClerkAuth } from 'clerk-api-auth';
import { createTestIssuer } from 'clerk-api-auth/testing';

const issuer = await createTestIssuer();
const clerkAuth = createClerkAuth({ jwtKey: issuer.jwtKey, env: {} }); // in production: createClerkAuth() reads CLERK_JWT_KEY

const admin = await issuer.sessionToken({ userId: 'user_alice', org: { id: 'org_acme', role: 'admin', permissions: ['org:notes:create'] } });
const expired = await issuer.sessionToken({ userId: 'user_bob', expiresInSeconds: -60 });

const cases: Array<[string, string | null]> = [
  ['no token', null],
  ['admin session', `Bearer ${admin}`],
  ['expired session', `Bearer ${expired}`],
  ['garbage', 'Bearer not-a-token'],
];

for (const [label, authorization] of cases) {
  const request = new Request('https://api.example.com/notes', { headers: authorization ? { authorization } : {} });
  const result = await clerkAuth.authenticate(request);
  const check = checkRequirement(result, { role: 'org:admin' });
  const who = result.auth.tokenType === 'session_token' ? (result.auth.userId ?? 'anonymous') : (result.auth.tokenType ?? 'none');
  const verdict = check.ok ? '200 allowed' : `${check.error.status} ${check.error.code}`;
  console.log(`${label.padEnd(16)} → ${who.padEnd(11)} reason=${String(result.reason).padEnd(14)} role org:admin → ${verdict}`);
}
