/**
 * The reference app's tRPC router as an AWS Lambda function: tRPC's aws-lambda adapter behind API
 * Gateway (REST API payload v1, HTTP API / function URL payload v2) or an Application Load Balancer.
 * `lambda.ts` is the entry a deployment points at; `server.ts` serves it locally.
 *
 * Lambda hands `createContext` the event and no response object, so the headers of a denied call
 * (`WWW-Authenticate`, which clients read to refresh an expired token, and `Retry-After`) go out
 * through `responseMeta: clerkResponseMeta`.
 */
import { TRPCError } from '@trpc/server';
import { awsLambdaRequestHandler, type CreateAWSLambdaContextOptions } from '@trpc/server/adapters/aws-lambda';
import type { ALBEvent, APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { ClerkAuth } from 'clerk-api-auth';
import { clerkResponseMeta, createClerkContext } from 'clerk-api-auth/trpc';
import type { NotesStore } from '../shared/notes.js';
import { appRouter } from '../trpc/router.js';
import type { AppContext } from '../trpc/trpc.js';
import type { LambdaHttpEvent, LambdaHttpHandler } from './api-gateway.js';

export interface LambdaHandlerOptions {
  clerkAuth: ClerkAuth;
  notes: NotesStore;
  /** Given each invocation's tRPC context (for an access log: `admittedAuth(ctx)` once it has run). */
  onContext?: (context: Context, ctx: AppContext) => void;
}

function isAlbEvent(event: LambdaHttpEvent): event is ALBEvent {
  return 'elb' in event.requestContext;
}

/**
 * The event as tRPC's adapter reads it. API Gateway's (v1, v2) as they are. An ALB event is read as
 * a REST (v1) event — the same fields — but an ALB passes the query string as sent, where API
 * Gateway decodes it: decode it first, or every batched GET (its `input` is URL-encoded JSON) fails
 * to parse.
 */
export function trpcLambdaEvent(event: LambdaHttpEvent): APIGatewayProxyEvent | APIGatewayProxyEventV2 {
  return isAlbEvent(event) ? asRestEvent(event) : event;
}

function asRestEvent(event: ALBEvent): APIGatewayProxyEvent {
  const decode = (value: string): string => {
    try {
      return decodeURIComponent(value.replace(/\+/g, ' '));
    } catch {
      return value;
    }
  };
  const single = Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).map(([name, value]) => [decode(name), value === undefined ? value : decode(value)]));
  const multi = event.multiValueQueryStringParameters
    ? Object.fromEntries(Object.entries(event.multiValueQueryStringParameters).map(([name, values]) => [decode(name), values?.map(decode)]))
    : null;
  const headers = event.headers ?? Object.fromEntries(Object.entries(event.multiValueHeaders ?? {}).map(([name, values]) => [name, values?.at(-1)]));
  return { ...event, headers, queryStringParameters: single, multiValueQueryStringParameters: multi } as unknown as APIGatewayProxyEvent;
}

/** The Lambda handler: `(event, context) => result` for API Gateway v1, v2 and ALB events. */
export function createLambdaHandler(options: LambdaHandlerOptions): LambdaHttpHandler {
  const { notes, onContext } = options;
  const clerkContext = createClerkContext(options.clerkAuth);

  const createContext = async (opts: CreateAWSLambdaContextOptions<APIGatewayProxyEvent | APIGatewayProxyEventV2>): Promise<AppContext> => {
    if (opts.info.type === 'subscription') {
      // A buffered Lambda response never ends while a subscription runs; serve subscriptions elsewhere.
      throw new TRPCError({ code: 'METHOD_NOT_SUPPORTED', message: 'Subscriptions need a streaming server; this Lambda answers whole responses.' });
    }
    const ctx: AppContext = { ...(await clerkContext(opts)), notes };
    onContext?.(opts.context, ctx);
    return ctx;
  };

  const trpc = awsLambdaRequestHandler({
    router: appRouter,
    createContext,
    // Required on Lambda: delivers WWW-Authenticate / Retry-After of denied calls (no response object to set them on).
    responseMeta: clerkResponseMeta,
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') console.error(`trpc-lambda: ${path ?? '(request)'} failed: ${error.message}`);
    },
  });

  return async (event, context) => trpc(trpcLambdaEvent(event), context);
}
