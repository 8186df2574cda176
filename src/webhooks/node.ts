import type { ClerkWebhooks, WebhookAnswer } from './clerk-webhooks.js';
import { concatBytes } from './bytes.js';

/**
 * The part of an Express or `node:http` request the webhook handler reads: method, headers, and the
 * raw body (`req.body` as a Buffer or string from `express.raw()`, or else the request stream).
 *
 * @example
 * ```ts
 * import type { IncomingMessage } from 'node:http';
 * const req: NodeWebhookRequest = {} as IncomingMessage;
 * ```
 */
export interface NodeWebhookRequest extends AsyncIterable<unknown> {
  method?: string | undefined;
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** Set by body parsers: a Buffer (`express.raw()`) or string (`express.text()`) is used as the raw body. */
  body?: unknown;
}

/**
 * The part of an Express or `node:http` response the webhook handler writes.
 *
 * @example
 * ```ts
 * import type { ServerResponse } from 'node:http';
 * const res: NodeWebhookResponse = {} as ServerResponse;
 * ```
 */
export interface NodeWebhookResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(chunk: string): unknown;
}

const encoder = new TextEncoder();

/** Reads the raw body, up to `limit` bytes: the bytes, `too-large`, or `unreadable`. */
async function readBody(req: NodeWebhookRequest, limit: number): Promise<Uint8Array | 'too-large' | 'unreadable'> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk instanceof Uint8Array ? chunk : undefined;
      if (bytes === undefined) return 'unreadable';
      size += bytes.byteLength;
      if (size > limit) return 'too-large';
      chunks.push(bytes);
    }
  } catch {
    return 'unreadable';
  }
  return concatBytes(chunks, size);
}

function send(res: NodeWebhookResponse, answer: WebhookAnswer): void {
  res.statusCode = answer.status;
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.end(JSON.stringify(answer.body));
}

/**
 * The Express / `node:http` adapter of a webhook endpoint. Never rejects.
 *
 * @internal
 */
export function nodeHandler(handle: ClerkWebhooks['handle'], maxBodyBytes: number, notPost: WebhookAnswer): ClerkWebhooks['node'] {
  return async function clerkWebhookNode(req, res) {
    try {
      if (req.method !== undefined && req.method !== 'POST') return send(res, notPost);
      let body: Uint8Array | string;
      if (req.body instanceof Uint8Array || typeof req.body === 'string') {
        body = req.body;
      } else if (req.body !== undefined && req.body !== null && !(typeof req.body === 'object' && Object.keys(req.body).length === 0)) {
        // A body parser (express.json()) already turned the bytes into an object: the signature cannot be checked.
        return send(res, {
          status: 500,
          headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
          body: {
            error: 'raw_body_required',
            message: 'The webhook route received a parsed body; it needs the raw bytes. Mount it before express.json(), or with express.raw({ type: "*/*" }).',
          },
        });
      } else {
        const read = await readBody(req, maxBodyBytes);
        if (read === 'too-large') {
          return send(res, { status: 413, headers: { 'content-type': 'application/json' }, body: { error: 'payload_too_large', message: `A Clerk webhook body is at most ${maxBodyBytes} bytes here.` } });
        }
        if (read === 'unreadable') return send(res, { status: 400, headers: { 'content-type': 'application/json' }, body: { error: 'invalid_webhook', message: 'The body could not be read.' } });
        body = read;
      }
      send(res, await handle({ body, headers: req.headers }));
    } catch {
      // The client went away or the response was already sent: nothing left to answer.
    }
  };
}
