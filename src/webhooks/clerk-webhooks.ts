import { verifyWebhook, type WebhookEvent, type WebhookEventType } from '@clerk/backend/webhooks';
import { ClerkAuthConfigError, createMemoryStore, runOnce, StoreSeal, validateStore, type ClerkAuthStore } from '../core/internal.js';
import { fastifyHandler, fastifyPlugin, type FastifyWebhookPlugin, type FastifyWebhookReply, type FastifyWebhookRequest } from './fastify.js';
import { nodeHandler, type NodeWebhookRequest, type NodeWebhookResponse } from './node.js';
import { concatBytes } from './bytes.js';

/**
 * The Clerk webhook event of type `T`, typed by `@clerk/backend/webhooks` (`data` is a `UserJSON`
 * for `user.created`, a `DeletedObjectJSON` for `organization.deleted`, ...).
 *
 * @example
 * ```ts
 * const onUser = (event: WebhookEventOf<'user.created'>) => console.log(event.data.email_addresses.length);
 * ```
 */
export type WebhookEventOf<T extends WebhookEventType> = WebhookEvent extends infer E
  ? E extends { type: infer U }
    ? T extends U
      ? Omit<E, 'type'> & { type: T }
      : never
    : never
  : never;

/**
 * The delivery an event came in: its Svix message id (`svix-id`, kept across Svix's retries), which
 * is also the key the delivery is deduplicated by.
 *
 * @example
 * ```ts
 * const log = (event: WebhookEvent, delivery: WebhookDelivery) => console.log(event.type, delivery.id);
 * ```
 */
export interface WebhookDelivery {
  /** `svix-id`, e.g. `msg_2abc…`. */
  readonly id: string;
}

/**
 * Handlers by event type, each receiving its own event type. Throw (or reject) to have Clerk retry
 * the delivery later.
 *
 * @example
 * ```ts
 * const on: WebhookHandlers = {
 *   'user.created': (event) => console.log('new user', event.data.id),
 *   'user.deleted': (event) => console.log('gone', event.data.id),
 * };
 * ```
 */
export type WebhookHandlers = { [T in WebhookEventType]?: (event: WebhookEventOf<T>, delivery: WebhookDelivery) => unknown };

/**
 * Options of `clerkWebhooks`.
 *
 * @example
 * ```ts
 * const options: ClerkWebhooksOptions = { on: { 'user.created': (event) => console.log(event.data.id) } };
 * ```
 */
export interface ClerkWebhooksOptions {
  /** The endpoint's signing secret (`whsec_…`, Clerk Dashboard → Webhooks → your endpoint). Env: `CLERK_WEBHOOK_SIGNING_SECRET`. */
  signingSecret?: string;
  /** Where `CLERK_WEBHOOK_SIGNING_SECRET` is read from. Default `process.env` where it exists. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Where processed deliveries are remembered, so a delivery is processed once across every instance
   * sharing it (`createRedisStore` from `clerk-api-auth/redis`). Default: an in-memory store of this
   * process (processed once per process).
   */
  store?: ClerkAuthStore;
  /** Handlers by event type. */
  on?: WebhookHandlers;
  /** Called for every verified event (after its `on` handler, if any). Throw to have Clerk retry. */
  onEvent?: (event: WebhookEvent, delivery: WebhookDelivery) => unknown;
  /** Called when a handler threw (the delivery is answered 500 and retried by Clerk). Default: one `console.error` line naming the event type and delivery id. */
  onError?: (error: unknown, event: WebhookEvent, delivery: WebhookDelivery) => void;
  /** How long a processed delivery is remembered, in ms. Default 72 hours (Svix retries for about a day). */
  rememberMs?: number;
  /** Longest a handler may run before another instance may process the same delivery, in ms. Default 60,000. */
  leaseMs?: number;
  /** How long a redelivery that finds the first one still being processed waits for it, in ms, before answering 409 (Clerk retries). Default 5,000. */
  waitMs?: number;
  /** Longest wait for one store call, in ms. Default 1,000. */
  storeTimeoutMs?: number;
  /** Largest body accepted, in bytes; larger ones are answered 413. Default 1 MiB. */
  maxBodyBytes?: number;
}

/**
 * What the webhook endpoint answers: the HTTP status, headers and JSON body.
 * - 200 `{ received: true, duplicate: false }`: verified and processed now;
 * - 200 `{ received: true, duplicate: true }`: already processed (by any instance sharing the store);
 * - 400 `invalid_webhook`: signature, headers or timestamp do not verify (nothing processed);
 * - 405, 413: not a POST; body too large;
 * - 409 `in_progress`: another instance is processing the same delivery right now (Clerk retries);
 * - 500 `handler_failed`: a handler threw; not marked processed, so Clerk's retry processes it;
 * - 503 `store_unavailable`: the store could not be asked, nothing processed (Clerk retries).
 *
 * @example
 * ```ts
 * const answer: WebhookAnswer = await webhooks.handle({ body, headers });
 * if (answer.status >= 500) console.warn(answer.body);
 * ```
 */
export interface WebhookAnswer {
  status: number;
  headers: Record<string, string>;
  body: { received: true; duplicate: boolean } | { error: string; message: string };
}

/**
 * A Clerk webhook endpoint, for any server: `fetch` for a web `Request` (Next.js route handlers, Hono,
 * Workers, Bun, Deno), `node` for Express and `node:http`, `fastify` / `fastifyPlugin` for Fastify,
 * and `handle` for anything else that has the raw body and the headers.
 *
 * @example
 * ```ts
 * const webhooks: ClerkWebhooks = clerkWebhooks({ onEvent: (event) => console.log(event.type) });
 * export const POST = (request: Request) => webhooks.fetch(request);
 * ```
 */
export interface ClerkWebhooks {
  /** Verifies and processes one delivery given its raw body (exactly as received) and its headers. Never throws. */
  handle(delivery: { body: string | Uint8Array; headers: Headers | Readonly<Record<string, string | readonly string[] | undefined>> }): Promise<WebhookAnswer>;
  /** A fetch handler: `(request: Request) => Promise<Response>`. */
  fetch(request: Request): Promise<Response>;
  /**
   * An Express / `node:http` handler. Reads the raw body itself, or takes it from `req.body` when it
   * is a Buffer or string (`express.raw()`); a body already parsed as JSON cannot be verified (500
   * naming the fix), so mount the route before `express.json()`.
   */
  node(req: NodeWebhookRequest, res: NodeWebhookResponse): Promise<void>;
  /** A Fastify route handler; the body must reach it raw (a Buffer or string): register `fastifyPlugin` instead, which sets that up. */
  fastify(request: FastifyWebhookRequest, reply: FastifyWebhookReply): Promise<FastifyWebhookReply>;
  /** A Fastify plugin serving `POST <path>` (default `/webhooks/clerk`) with the raw body, in its own encapsulated context. */
  fastifyPlugin: FastifyWebhookPlugin;
}

const HOUR = 3_600_000;

function defaultEnv(): Readonly<Record<string, string | undefined>> {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env ?? {};
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ClerkAuthConfigError(`\`${name}\` of clerkWebhooks must be a positive finite number; got ${String(value)}.`);
  }
  return value;
}

function validateSecret(secret: string | undefined): string {
  if (secret === undefined) {
    throw new ClerkAuthConfigError(
      'No webhook signing secret. Set CLERK_WEBHOOK_SIGNING_SECRET to the Signing Secret of this endpoint (Clerk Dashboard → Webhooks → your endpoint), or pass `signingSecret` to clerkWebhooks.',
    );
  }
  const body = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  let valid = /^[A-Za-z0-9+/]+={0,2}$/.test(body);
  if (valid) {
    try {
      valid = atob(body).length > 0;
    } catch {
      valid = false;
    }
  }
  if (!valid) {
    throw new ClerkAuthConfigError(
      'The webhook signing secret is not one: it must be whsec_ followed by base64, as the Clerk Dashboard shows it (Webhooks → your endpoint → Signing Secret). Check CLERK_WEBHOOK_SIGNING_SECRET.',
    );
  }
  return secret;
}

function headerOf(headers: Headers | Readonly<Record<string, string | readonly string[] | undefined>>, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    return typeof value === 'string' ? value : value.join(', ');
  }
  return undefined;
}

/** A request's body, read up to `limit` bytes (a larger one is not read further). */
async function readLimited(request: Request, limit: number): Promise<Uint8Array | 'too-large' | 'unreadable'> {
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        return 'too-large';
      }
      chunks.push(value);
    }
  } catch {
    return 'unreadable';
  }
  return concatBytes(chunks, size);
}

const answer = (status: number, body: WebhookAnswer['body'], headers: Record<string, string> = {}): WebhookAnswer => ({
  status,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  body,
});

/**
 * Clerk webhooks, verified and processed once. Verification is `@clerk/backend/webhooks`'
 * `verifyWebhook` (Svix / Standard Webhooks signature over the raw body, five-minute timestamp
 * tolerance) with `CLERK_WEBHOOK_SIGNING_SECRET`; then each delivery is processed at most once per
 * `svix-id` across every instance sharing `store`, and marked processed only after its handlers
 * succeeded — a handler that throws answers 500 so that Clerk (Svix) retries it.
 *
 * Configuration is checked now: a missing or malformed signing secret throws `ClerkAuthConfigError`.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { clerkWebhooks } from 'clerk-api-auth/webhooks';
 *
 * const webhooks = clerkWebhooks({
 *   on: {
 *     'user.created': (event) => console.log('welcome', event.data.id),
 *     'user.deleted': (event) => console.log('goodbye', event.data.id),
 *   },
 * });
 * const app = express();
 * app.post('/webhooks/clerk', webhooks.node); // before app.use(express.json())
 * ```
 */
export function clerkWebhooks(options: ClerkWebhooksOptions = {}): ClerkWebhooks {
  const env = options.env ?? defaultEnv();
  const given = options.signingSecret ?? env.CLERK_WEBHOOK_SIGNING_SECRET;
  const signingSecret = validateSecret(given === undefined || given.trim() === '' ? undefined : given.trim());
  const store = options.store === undefined ? createMemoryStore() : validateStore(options.store, 'store');
  const rememberMs = positive(options.rememberMs, 72 * HOUR, 'rememberMs');
  const leaseMs = positive(options.leaseMs, 60_000, 'leaseMs');
  const waitMs = positive(options.waitMs, 5000, 'waitMs');
  const timeoutMs = positive(options.storeTimeoutMs, 1000, 'storeTimeoutMs');
  const maxBodyBytes = positive(options.maxBodyBytes, 1024 * 1024, 'maxBodyBytes');
  const on = options.on ?? {};
  if (on === null || typeof on !== 'object') throw new ClerkAuthConfigError('`on` of clerkWebhooks must be an object of handlers by event type.');
  for (const [type, handler] of Object.entries(on)) {
    if (typeof handler !== 'function') throw new ClerkAuthConfigError(`\`on[${JSON.stringify(type)}]\` of clerkWebhooks must be a function.`);
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') throw new ClerkAuthConfigError('`onEvent` of clerkWebhooks must be a function.');
  const onError =
    options.onError ??
    ((error: unknown, event: WebhookEvent, delivery: WebhookDelivery) => {
      console.error(`clerk-api-auth/webhooks: handling ${event.type} (${delivery.id}) failed, Clerk will retry it: ${error instanceof Error ? error.message : String(error)}`);
    });
  // Delivery ids are kept under a keyed hash: endpoints with different secrets sharing a store never meet.
  const seal = StoreSeal.derive(signingSecret, 'webhooks');
  seal.catch(() => {});

  const processEvent = async (event: WebhookEvent, delivery: WebhookDelivery): Promise<void> => {
    const handler = on[event.type] as ((event: WebhookEvent, delivery: WebhookDelivery) => unknown) | undefined;
    if (handler !== undefined) await handler(event, delivery);
    if (options.onEvent !== undefined) await options.onEvent(event, delivery);
  };

  const handle: ClerkWebhooks['handle'] = async ({ body, headers }) => {
    const size = typeof body === 'string' ? new TextEncoder().encode(body).length : body.byteLength;
    if (size > maxBodyBytes) return answer(413, { error: 'payload_too_large', message: `A Clerk webhook body is at most ${maxBodyBytes} bytes here.` });
    const svix = new Headers();
    for (const name of ['svix-id', 'svix-timestamp', 'svix-signature']) {
      const value = headerOf(headers, name);
      if (value !== undefined) svix.set(name, value);
    }
    let event: WebhookEvent;
    try {
      const bytes = typeof body === 'string' ? body : (body as Uint8Array<ArrayBuffer>);
      event = await verifyWebhook(new Request('http://webhook.invalid/', { method: 'POST', headers: svix, body: bytes }), { signingSecret });
    } catch (error) {
      // Clerk's reason is safe to return ("No matching signature found", "Message timestamp too old", missing headers).
      return answer(400, { error: 'invalid_webhook', message: error instanceof Error ? error.message : 'The webhook did not verify.' });
    }
    // Verified, so svix-id is authentic: it is part of what was signed.
    const delivery: WebhookDelivery = { id: svix.get('svix-id')?.trim() ?? '' };
    let key: string;
    try {
      key = `wh:${await (await seal).name(delivery.id)}`;
    } catch {
      return answer(503, { error: 'store_unavailable', message: 'The delivery could not be checked for duplicates; Clerk will retry it.' }, { 'retry-after': '10' });
    }
    const outcome = await runOnce(store, key, () => processEvent(event, delivery), { leaseMs, rememberMs, waitMs, timeoutMs });
    switch (outcome.status) {
      case 'processed':
        return answer(200, { received: true, duplicate: false });
      case 'duplicate':
        return answer(200, { received: true, duplicate: true });
      case 'in-progress':
        return answer(409, { error: 'in_progress', message: 'This delivery is being processed by another instance; Clerk will retry it.' }, { 'retry-after': '5' });
      case 'failed':
        try {
          onError(outcome.error, event, delivery);
        } catch {
          // A failing error reporter changes nothing: the delivery is retried.
        }
        return answer(500, { error: 'handler_failed', message: 'The event could not be processed; Clerk will retry the delivery.' });
      case 'store-unavailable':
        return answer(503, { error: 'store_unavailable', message: 'The delivery could not be checked for duplicates, so it was not processed; Clerk will retry it.' }, { 'retry-after': '10' });
    }
  };

  const notPost = answer(405, { error: 'method_not_allowed', message: 'Clerk delivers webhooks with POST.' }, { allow: 'POST' });
  const fetchHandler = async (request: Request): Promise<Response> => {
    const toResponse = (a: WebhookAnswer) => new Response(JSON.stringify(a.body), { status: a.status, headers: a.headers });
    if (request.method !== 'POST') return toResponse(notPost);
    const declared = Number(request.headers.get('content-length') ?? '0');
    if (declared > maxBodyBytes) return toResponse(answer(413, { error: 'payload_too_large', message: `A Clerk webhook body is at most ${maxBodyBytes} bytes here.` }));
    const body = await readLimited(request, maxBodyBytes);
    if (body === 'too-large') return toResponse(answer(413, { error: 'payload_too_large', message: `A Clerk webhook body is at most ${maxBodyBytes} bytes here.` }));
    if (body === 'unreadable') return toResponse(answer(400, { error: 'invalid_webhook', message: 'The body could not be read.' }));
    return toResponse(await handle({ body, headers: request.headers }));
  };

  const fastify = fastifyHandler(handle);
  return {
    handle,
    fetch: fetchHandler,
    node: nodeHandler(handle, maxBodyBytes, notPost),
    fastify,
    fastifyPlugin: fastifyPlugin(fastify, maxBodyBytes),
  };
}
