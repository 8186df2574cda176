import type { ClerkWebhooks, WebhookAnswer } from './clerk-webhooks.js';

/**
 * The part of a Fastify request the webhook handler reads: the headers and the raw body (a Buffer or
 * string; `fastifyPlugin` makes Fastify hand it over unparsed).
 *
 * @example
 * ```ts
 * const request: FastifyWebhookRequest = { headers: {}, body: Buffer.from('{}') };
 * ```
 */
export interface FastifyWebhookRequest {
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  body: unknown;
}

/**
 * The part of a Fastify reply the webhook handler writes.
 *
 * @example
 * ```ts
 * import type { FastifyReply } from 'fastify';
 * const reply: FastifyWebhookReply = {} as FastifyReply;
 * ```
 */
export interface FastifyWebhookReply {
  code(statusCode: number): FastifyWebhookReply;
  header(key: string, value: string): FastifyWebhookReply;
  send(payload: string): unknown;
}

/**
 * The part of a Fastify instance `fastifyPlugin` uses: its own content-type parsers (raw bytes for
 * every type, in the plugin's encapsulated context only) and one POST route.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * const app: FastifyWebhookInstance = Fastify();
 * ```
 */
export interface FastifyWebhookInstance {
  removeAllContentTypeParsers(): void;
  addContentTypeParser(
    contentType: string,
    options: { parseAs: 'buffer'; bodyLimit?: number },
    parser: (request: never, body: Uint8Array, done: (error: Error | null, body?: unknown) => void) => void,
  ): void;
  post(path: string, handler: (request: FastifyWebhookRequest, reply: FastifyWebhookReply) => Promise<unknown>): unknown;
}

/**
 * A Fastify plugin serving Clerk webhooks at `path` (default `/webhooks/clerk`):
 * `app.register(webhooks.fastifyPlugin, { path: '/webhooks/clerk' })`.
 *
 * @example
 * ```ts
 * const plugin: FastifyWebhookPlugin = webhooks.fastifyPlugin;
 * ```
 */
export type FastifyWebhookPlugin = (instance: FastifyWebhookInstance, options: { path?: string }) => Promise<void>;

function reply(to: FastifyWebhookReply, answer: WebhookAnswer): FastifyWebhookReply {
  let out = to.code(answer.status);
  for (const [name, value] of Object.entries(answer.headers)) out = out.header(name, value);
  out.send(JSON.stringify(answer.body));
  return to;
}

/** The Fastify route handler of a webhook endpoint. @internal */
export function fastifyHandler(handle: ClerkWebhooks['handle']): ClerkWebhooks['fastify'] {
  return async function clerkWebhookFastify(request, to) {
    const raw = request.body;
    if (!(raw instanceof Uint8Array) && typeof raw !== 'string') {
      return reply(to, {
        status: 500,
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
        body: {
          error: 'raw_body_required',
          message: 'The webhook route received a parsed body; it needs the raw bytes. Register webhooks.fastifyPlugin, or a content-type parser with parseAs: "buffer" for this route.',
        },
      });
    }
    return reply(to, await handle({ body: raw, headers: request.headers }));
  };
}

/** The Fastify plugin of a webhook endpoint. @internal */
export function fastifyPlugin(handler: ClerkWebhooks['fastify'], maxBodyBytes: number): FastifyWebhookPlugin {
  return async function clerkWebhookPlugin(instance, options) {
    // Registered plugins are encapsulated: these parsers apply to this route only.
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_request, body, done) => done(null, body));
    instance.post(options?.path ?? '/webhooks/clerk', handler);
  };
}
