/**
 * A small local stand-in for what sits in front of a Lambda function in AWS, for running and testing
 * a Lambda handler on your machine: a `node:http` server that turns each HTTP request into the event
 * AWS would deliver, invokes the handler, and turns its result back into the HTTP response.
 *
 * - `v2` (default): an API Gateway HTTP API / function URL event (payload 2.0): lower-case `headers`,
 *   repeated headers joined by commas, cookies moved into `cookies`, `rawQueryString`.
 * - `v1`: an API Gateway REST API proxy event (payload 1.0): header names as the client sent them,
 *   `headers` with the last value of each, `multiValueHeaders` with all of them, decoded query parameters.
 * - `alb`: an Application Load Balancer event (single-value headers): header names as sent, the last
 *   value of a repeated header, query parameters NOT decoded (ALB passes them as sent).
 *
 * Routes as a `/trpc/{proxy+}` route would: anything else is answered 404 without invoking the
 * handler. A handler that throws answers 502, one that takes longer than `timeoutMs` 504, a body
 * over Lambda's 6 MB limit 413, as AWS does.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  ALBEvent,
  ALBResult,
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';

/** The event shapes the shim can deliver. */
export type LambdaEventShape = 'v2' | 'v1' | 'alb';
export const LAMBDA_EVENT_SHAPES: readonly LambdaEventShape[] = ['v2', 'v1', 'alb'];

/** An HTTP event as AWS delivers it to a function, and what the function answers. */
export type LambdaHttpEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent | ALBEvent;
export type LambdaHttpResult = APIGatewayProxyStructuredResultV2 | APIGatewayProxyResult | ALBResult | string;
export type LambdaHttpHandler = (event: LambdaHttpEvent, context: Context) => Promise<LambdaHttpResult>;

export interface ApiGatewayOptions {
  port: number;
  /** Default: every address, as `node:http` does. */
  host?: string;
  shape: LambdaEventShape;
  /** The route prefix of the `{proxy+}` route. Default `/trpc`. */
  prefix?: string;
  /** Longest a handler may take before the shim answers 504. Default 29 s (API Gateway's integration timeout). */
  timeoutMs?: number;
  /** Called when each response has been sent. */
  onResponse?: (info: { method: string; path: string; status: number; context: Context; ms: number }) => void;
}

export interface ApiGateway {
  server: Server;
  port: number;
  /** e.g. `http://127.0.0.1:4005`. */
  url: string;
  close(): Promise<void>;
}

/** Lambda's limit on a synchronous invocation's request payload. */
const MAX_BODY_BYTES = 6 * 1024 * 1024;
const TEXT_TYPES = /^(text\/|application\/(json|x-www-form-urlencoded|graphql|xml|jsonl?)\b|[^;]*\+json\b)/i;

/** Parses `LAMBDA_EVENT`; throws a clear error for anything but `v2`, `v1` or `alb`. */
export function eventShapeFrom(value: string | undefined): LambdaEventShape {
  const shape = (value?.trim() || 'v2').toLowerCase();
  if ((LAMBDA_EVENT_SHAPES as readonly string[]).includes(shape)) return shape as LambdaEventShape;
  throw new Error(`LAMBDA_EVENT must be one of ${LAMBDA_EVENT_SHAPES.join(', ')}; got ${JSON.stringify(value)}.`);
}

class PayloadTooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new PayloadTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Header lines as the client sent them: [name, value] in order, names in their own case. */
function headerLines(req: IncomingMessage): Array<[string, string]> {
  const lines: Array<[string, string]> = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) lines.push([req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string]);
  return lines;
}

function lambdaContext(requestId: string, deadline: number): Context {
  const unsupported = (): never => {
    throw new Error('The local API Gateway shim does not support the legacy context callbacks; return a result instead.');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'trpc-lambda-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:trpc-lambda-local',
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/trpc-lambda-local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

interface Incoming {
  method: string;
  path: string;
  rawQuery: string;
  lines: Array<[string, string]>;
  body: Buffer;
  sourceIp: string;
  proxy: string;
  prefix: string;
  requestId: string;
}

function encodedBody(incoming: Incoming): { body: string | undefined; isBase64Encoded: boolean } {
  if (incoming.body.length === 0) return { body: undefined, isBase64Encoded: false };
  const type = incoming.lines.find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? '';
  return TEXT_TYPES.test(type)
    ? { body: incoming.body.toString('utf8'), isBase64Encoded: false }
    : { body: incoming.body.toString('base64'), isBase64Encoded: true };
}

function host(incoming: Incoming): string {
  return incoming.lines.find(([name]) => name.toLowerCase() === 'host')?.[1] ?? 'localhost';
}

/** Query parameters: `decode` as API Gateway does, or as sent (ALB). */
function queryParameters(rawQuery: string, decode: boolean): { single: Record<string, string> | null; multi: Record<string, string[]> | null } {
  if (rawQuery === '') return { single: null, multi: null };
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  const pairs: Array<[string, string]> = decode
    ? [...new URLSearchParams(rawQuery)]
    : rawQuery.split('&').filter(Boolean).map((pair) => {
        const at = pair.indexOf('=');
        return at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
      });
  for (const [name, value] of pairs) {
    single[name] = value;
    (multi[name] ??= []).push(value);
  }
  return { single, multi };
}

function v2Event(incoming: Incoming): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of incoming.lines) {
    const lower = name.toLowerCase();
    if (lower === 'cookie') {
      cookies.push(...value.split(/;\s*/).filter(Boolean));
      continue;
    }
    headers[lower] = headers[lower] === undefined ? value : `${headers[lower]},${value}`;
  }
  const query = new URLSearchParams(incoming.rawQuery);
  const queryStringParameters: Record<string, string> = {};
  for (const [name, value] of query) queryStringParameters[name] = queryStringParameters[name] === undefined ? value : `${queryStringParameters[name]},${value}`;
  const domainName = host(incoming);
  const now = Date.now();
  const routeKey = `ANY ${incoming.prefix}/{proxy+}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: incoming.path,
    rawQueryString: incoming.rawQuery,
    ...(cookies.length > 0 && { cookies }),
    headers,
    ...(incoming.rawQuery !== '' && { queryStringParameters }),
    pathParameters: { proxy: incoming.proxy },
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: { method: incoming.method, path: incoming.path, protocol: 'HTTP/1.1', sourceIp: incoming.sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: incoming.requestId,
      routeKey,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...encodedBody(incoming),
  };
}

/** v1 and ALB: names as sent; the last value of each name, and (v1, multi-value ALB) all of them. */
function caseKeptHeaders(lines: Array<[string, string]>): { single: Record<string, string>; multi: Record<string, string[]> } {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of lines) {
    single[name] = value;
    (multi[name] ??= []).push(value);
  }
  return { single, multi };
}

function v1Event(incoming: Incoming): APIGatewayProxyEvent {
  const headers = caseKeptHeaders(incoming.lines);
  const query = queryParameters(incoming.rawQuery, true);
  const { body, isBase64Encoded } = encodedBody(incoming);
  const resource = `${incoming.prefix}/{proxy+}`;
  return {
    resource,
    path: incoming.path,
    httpMethod: incoming.method,
    headers: headers.single,
    multiValueHeaders: headers.multi,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    pathParameters: { proxy: incoming.proxy },
    stageVariables: null,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: undefined,
      domainName: host(incoming),
      protocol: 'HTTP/1.1',
      httpMethod: incoming.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: incoming.sourceIp,
        user: null,
        userAgent: headers.single['User-Agent'] ?? headers.single['user-agent'] ?? null,
        userArn: null,
      },
      path: incoming.path,
      stage: 'local',
      requestId: incoming.requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: resource,
    },
    body: body ?? null,
    isBase64Encoded,
  };
}

function albEvent(incoming: Incoming): ALBEvent {
  const headers = caseKeptHeaders(incoming.lines);
  const query = queryParameters(incoming.rawQuery, false);
  const { body, isBase64Encoded } = encodedBody(incoming);
  return {
    requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/trpc-lambda-local/0000000000000000' } },
    httpMethod: incoming.method,
    path: incoming.path,
    headers: headers.single,
    ...(query.single !== null && { queryStringParameters: query.single }),
    body: body ?? null,
    isBase64Encoded,
  };
}

const EVENTS: Record<LambdaEventShape, (incoming: Incoming) => LambdaHttpEvent> = { v2: v2Event, v1: v1Event, alb: albEvent };

/** Writes a handler's result as API Gateway / ALB would. */
function writeResult(res: ServerResponse, result: LambdaHttpResult): void {
  if (typeof result === 'string') {
    // Payload 2.0 infers a 200 JSON response from a bare string.
    res.writeHead(200, { 'content-type': 'application/json' }).end(result);
    return;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = String(value);
  const multi = 'multiValueHeaders' in result ? result.multiValueHeaders : undefined;
  for (const [name, values] of Object.entries(multi ?? {})) if (values !== undefined) headers[name.toLowerCase()] = values.map(String);
  const cookies = 'cookies' in result ? result.cookies : undefined;
  if (cookies !== undefined && cookies.length > 0) headers['set-cookie'] = cookies;
  const body = result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded === true ? 'base64' : 'utf8');
  res.writeHead(result.statusCode ?? 200, headers).end(body);
}

function answer(res: ServerResponse, status: number, message: string): void {
  if (!res.headersSent) res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ message }));
  else res.end();
}

/** Serves `handler` over HTTP, delivering each request as a `shape` event. */
export async function serveLambda(handler: LambdaHttpHandler, options: ApiGatewayOptions): Promise<ApiGateway> {
  const prefix = options.prefix ?? '/trpc';
  const timeoutMs = options.timeoutMs ?? 29_000;
  const toEvent = EVENTS[options.shape];
  const server = createServer((req, res) => {
    const started = performance.now();
    const requestId = randomUUID();
    const context = lambdaContext(requestId, Date.now() + timeoutMs);
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const path = queryAt < 0 ? target : target.slice(0, queryAt);
    const method = req.method ?? 'GET';
    res.once('finish', () => options.onResponse?.({ method, path, status: res.statusCode, context, ms: performance.now() - started }));
    if (!path.startsWith(`${prefix}/`)) {
      req.resume();
      answer(res, 404, 'Not Found');
      return;
    }
    void (async () => {
      let body: Buffer;
      try {
        body = await readBody(req);
      } catch (error) {
        answer(res, error instanceof PayloadTooLarge ? 413 : 400, error instanceof PayloadTooLarge ? 'Request Too Long' : 'Bad Request');
        return;
      }
      let proxy: string;
      try {
        proxy = decodeURIComponent(path.slice(prefix.length + 1));
        // A Host that is not a host (RFC 9112 §3.2) is the client's error: 400, as AWS answers it, never a 5xx.
        const hostHeader = req.headers.host;
        if (hostHeader !== undefined && new URL(`http://${hostHeader}`).host === '') throw new Error('bad host');
      } catch {
        answer(res, 400, 'Bad Request');
        return;
      }
      const event = toEvent({
        method,
        path,
        rawQuery: queryAt < 0 ? '' : target.slice(queryAt + 1),
        lines: headerLines(req),
        body,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        proxy,
        prefix,
        requestId,
      });
      let timer: NodeJS.Timeout | undefined;
      try {
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
          timer.unref();
        });
        const result = await Promise.race([handler(event, context), timedOut]);
        if (result === 'timeout') answer(res, 504, 'Endpoint request timed out');
        else writeResult(res, result);
      } catch {
        answer(res, 502, 'Internal Server Error');
      } finally {
        clearTimeout(timer);
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (options.host) server.listen(options.port, options.host, () => resolve());
    else server.listen(options.port, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
