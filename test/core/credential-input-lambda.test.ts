/**
 * `credentialInputOf` for AWS Lambda events and framework requests wrapping Node's: the event
 * shapes API Gateway (payload v1 and v2) and an Application Load Balancer deliver, mapped to what the
 * core's one credential reader reads, and read end to end through `authenticate` (real tokens).
 */
import type { IncomingMessage } from 'node:http';
import type { ALBEvent, APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClerkAuth, type AuthenticateResult, type ClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, type TestIssuer } from 'clerk-api-auth/testing';
import { credentialInputOf, lambdaEventRequest } from '../../src/core/credential-input.js';

let issuer: TestIssuer;
let clerkAuth: ClerkAuth;
let alice: string;
let bob: string;

beforeAll(async () => {
  issuer = await createTestIssuer();
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
  alice = await issuer.sessionToken({ userId: 'user_alice' });
  bob = await issuer.sessionToken({ userId: 'user_bob' });
});

const userOf = (result: AuthenticateResult) => (result.auth.tokenType === 'session_token' ? result.auth.userId : null);
const read = (value: unknown) => clerkAuth.authenticate(credentialInputOf(value), { acceptsToken: 'any' });

/** The parts of a REST API (v1) proxy event that matter here; the rest as API Gateway fills it. */
function v1(headers: Record<string, string>, multiValueHeaders: Record<string, string[]>): APIGatewayProxyEvent {
  return {
    resource: '/trpc/{proxy+}',
    path: '/trpc/whoami',
    httpMethod: 'GET',
    headers,
    multiValueHeaders,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { proxy: 'whoami' },
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { domainName: 'api.example.com' } as APIGatewayProxyEvent['requestContext'],
  };
}

function v2(headers: Record<string, string>, cookies?: string[]): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'ANY /trpc/{proxy+}',
    rawPath: '/trpc/whoami',
    rawQueryString: '',
    headers,
    ...(cookies && { cookies }),
    isBase64Encoded: false,
    requestContext: { domainName: 'api.example.com' } as APIGatewayProxyEventV2['requestContext'],
  };
}

function alb(fields: Pick<ALBEvent, 'headers' | 'multiValueHeaders'>): ALBEvent {
  return { requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:::targetgroup/t/0' } }, httpMethod: 'GET', path: '/trpc/whoami', body: null, isBase64Encoded: false, ...fields };
}

const session = (token: string) => `__session=${token}; __client_uat=1`;

describe('credentialInputOf: AWS Lambda events', () => {
  it("reads the event itself, or tRPC's aws-lambda createContext options { event, context, info }", async () => {
    const event = v2({ authorization: `Bearer ${alice}` });
    expect(userOf(await read(event))).toBe('user_alice');
    expect(userOf(await read({ event, context: {}, info: { connectionParams: null } }))).toBe('user_alice');
    expect(userOf(await read({ event, context: {} }))).toBe('user_alice');
    // connectionParams (an SSE client) and the event's header: one rule.
    expect(userOf(await read({ event: v2({}), info: { connectionParams: { token: bob } } }))).toBe('user_bob');
    expect((await read({ event, info: { connectionParams: { token: bob } } })).reason).toBe('multiple-authorization-headers');
    expect((await read({ event: v2({}), context: {} })).reason).toBe('token-missing');
  });

  it('v1 and ALB: header names in any case; v1 multiValueHeaders: two Authorization headers are two credentials', async () => {
    expect(userOf(await read(v1({ AUTHORIZATION: `bearer ${alice}` }, { AUTHORIZATION: [`bearer ${alice}`] })))).toBe('user_alice');
    expect(userOf(await read(alb({ headers: { Authorization: `Bearer ${bob}` } })))).toBe('user_bob');
    // API Gateway puts the last value in `headers`, all of them in `multiValueHeaders`.
    const doubled = v1({ Authorization: `Bearer ${bob}` }, { Authorization: [`Bearer ${alice}`, `Bearer ${bob}`] });
    expect((await read(doubled)).reason).toBe('multiple-authorization-headers');
    expect((await read(alb({ multiValueHeaders: { authorization: [`Bearer ${alice}`, `Bearer ${bob}`] } }))).reason).toBe('multiple-authorization-headers');
    // The same value in both maps is one header.
    expect(userOf(await read(v1({ authorization: `Bearer ${alice}` }, { Authorization: [`Bearer ${alice}`] })))).toBe('user_alice');
  });

  it('v2: a repeated header joined by a comma is two credentials; `cookies` is the Cookie header', async () => {
    expect((await read(v2({ authorization: `Bearer ${alice},Bearer ${bob}` }))).reason).toBe('multiple-authorization-headers');
    expect(userOf(await read(v2({}, ['theme=dark', `__session=${alice}`, '__client_uat=1'])))).toBe('user_alice');
    expect(lambdaEventRequest(v2({ cookie: 'a=1' }, ['b=2', 'c=3'])).headers.cookie).toEqual(['a=1', 'b=2; c=3']);
    expect(userOf(await read(v2({ cookie: 'a=1' }, [`__session=${bob}`, '__client_uat=1'])))).toBe('user_bob');
  });

  it("the __session cookie's same-origin rule compares Origin with the host the client called (Host, else domainName)", async () => {
    // A Host header wins over requestContext.domainName; without one, domainName is the host.
    expect(lambdaEventRequest(v2({ host: 'api.example.com' })).headers).toEqual({ host: 'api.example.com' });
    expect(lambdaEventRequest(v1({ Host: 'other.example' }, { Host: ['other.example'] })).headers).toEqual({ Host: ['other.example'] });
    expect(lambdaEventRequest(v2({})).headers).toEqual({ host: 'api.example.com' });
    expect(userOf(await read(v2({ origin: 'https://api.example.com' }, [`__session=${alice}`, '__client_uat=1'])))).toBe('user_alice');
    expect((await read(v2({ origin: 'https://evil.example' }, [`__session=${alice}`, '__client_uat=1']))).reason).toBe('token-missing');
    expect((await read(v1({ Cookie: session(alice), Origin: 'https://evil.example', Host: 'api.example.com' }, {}))).reason).toBe('token-missing');
    expect(userOf(await read(v1({ Cookie: session(alice), Origin: 'https://api.example.com' }, {})))).toBe('user_alice');
    expect((await read(v2({ 'sec-fetch-site': 'cross-site' }, [`__session=${alice}`, '__client_uat=1']))).reason).toBe('token-missing');
  });

  it('refuses malformed events as malformed, never as anonymous or a 500', async () => {
    const notAString = { requestContext: {}, headers: { authorization: 42 } };
    expect((await read(notAString)).reason).toBe('malformed-authorization-header');
    const hostile = {
      requestContext: {},
      get headers(): Record<string, string> {
        throw new Error('boom');
      },
    };
    expect((await read(hostile)).reason).toBe('malformed-authorization-header');
    expect((await read({ requestContext: {}, multiValueHeaders: { authorization: [42] } })).reason).toBe('malformed-authorization-header');
    // A string where a list belongs is read as one value.
    expect(userOf(await read({ requestContext: {}, multiValueHeaders: { authorization: `Bearer ${bob}` } }))).toBe('user_bob');
  });

  it('leaves requests that are not Lambda events alone', () => {
    const plain = { headers: { authorization: `Bearer ${alice}` } };
    expect(credentialInputOf(plain)).toBe(plain);
    expect(credentialInputOf({ event: { headers: {} } })).toBeNull();
  });
});

describe('credentialInputOf: a framework request wrapping Node', () => {
  it("reads Fastify's request.raw, where a second Authorization line is visible", async () => {
    // Node's `headers` keeps only the first Authorization; `rawHeaders` has both.
    const raw = { headers: { authorization: `Bearer ${alice}` }, rawHeaders: ['Authorization', `Bearer ${alice}`, 'authorization', `Bearer ${bob}`] };
    const fastifyRequest = { headers: raw.headers, raw: raw as unknown as IncomingMessage, ip: '127.0.0.1' };
    expect(credentialInputOf(fastifyRequest)).toBe(raw);
    expect(credentialInputOf({ req: fastifyRequest, res: {}, info: { connectionParams: null } })).toEqual({ connectionParams: null, request: raw });
    expect((await read({ req: fastifyRequest, res: {} })).reason).toBe('multiple-authorization-headers');
    const single = { headers: { authorization: `Bearer ${bob}` }, rawHeaders: ['Authorization', `Bearer ${bob}`] };
    expect(userOf(await read({ req: { headers: single.headers, raw: single } }))).toBe('user_bob');
    // A `raw` that is not a Node request is ignored.
    const odd = { headers: { authorization: `Bearer ${bob}` }, raw: 'x' };
    expect(credentialInputOf(odd)).toBe(odd);
  });
});
