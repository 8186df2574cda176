import type { WebhookEventType } from '@clerk/backend/webhooks';

/**
 * Clerk delivers webhooks through Svix, signed the Standard Webhooks way: an HMAC-SHA256 over
 * `<svix-id>.<svix-timestamp>.<body>` keyed with the endpoint's signing secret (`whsec_<base64>`),
 * sent as `svix-signature: v1,<base64>`. This module signs payloads exactly so, with WebCrypto, so
 * that webhook handlers (which verify with `@clerk/backend/webhooks`' `verifyWebhook`) can be tested
 * offline with real signatures.
 */

const PREFIX = 'whsec_';
const encoder = new TextEncoder();

/**
 * A webhook event to sign, in Clerk's envelope. `object`, `timestamp`, `instance_id` and
 * `event_attributes` are filled in when absent; `data` is whatever the event carries (a `UserJSON`
 * for `user.created`, ...), so any object literal works in tests.
 *
 * @example
 * ```ts
 * const event: WebhookEventInput = { type: 'user.created', data: { id: 'user_123', email_addresses: [] } };
 * ```
 */
export interface WebhookEventInput {
  /** The event type, e.g. `user.created`, `organizationMembership.deleted`. */
  type: WebhookEventType | (string & {});
  /** The event's object, e.g. the user for `user.*` events. */
  data: object;
  /** Always `event` in Clerk's envelope. Default `event`. */
  object?: 'event';
  /** Milliseconds since the epoch. Default now. */
  timestamp?: number;
  /** The Clerk instance id. Default `ins_test`. */
  instance_id?: string;
  /** The request that caused the event. Default a loopback client. */
  event_attributes?: { http_request: { client_ip: string; user_agent: string } };
}

/**
 * Per-delivery options: the message id and the moment of signing.
 *
 * @example
 * ```ts
 * // A delivery signed ten minutes ago: verifyWebhook refuses it as a replay (tolerance: 5 minutes).
 * const options: WebhookDeliveryOptions = { signedAt: new Date(Date.now() - 10 * 60_000) };
 * ```
 */
export interface WebhookDeliveryOptions {
  /** `svix-id`, the message id (Svix keeps it across retries). Default `msg_<random>`. */
  id?: string;
  /** When the delivery was signed (`svix-timestamp`). Default now. */
  signedAt?: Date;
}

/**
 * Options of `signWebhook`: the signing secret plus the per-delivery options.
 *
 * @example
 * ```ts
 * const options: SignWebhookOptions = { signingSecret: process.env.CLERK_WEBHOOK_SIGNING_SECRET ?? '', id: 'msg_1' };
 * ```
 */
export interface SignWebhookOptions extends WebhookDeliveryOptions {
  /** The endpoint's signing secret, `whsec_<base64>` (the prefix is optional, as in Standard Webhooks). */
  signingSecret: string;
}

/**
 * A signed webhook delivery: the exact body and the Svix headers, as Clerk sends them.
 *
 * @example
 * ```ts
 * const delivery: SignedWebhook = await issuer.signWebhook({ type: 'user.created', data: { id: 'user_123' } });
 * await fetch('http://localhost:3000/webhooks/clerk', { method: 'POST', headers: delivery.headers, body: delivery.body });
 * ```
 */
export interface SignedWebhook {
  /** The message id (`svix-id`). */
  readonly id: string;
  /** Seconds since the epoch (`svix-timestamp`). */
  readonly timestamp: number;
  /** The JSON body, byte for byte as signed. Change one byte and verification fails. */
  readonly body: string;
  /** `content-type`, `svix-id`, `svix-timestamp` and `svix-signature`. */
  readonly headers: Readonly<Record<'content-type' | 'svix-id' | 'svix-timestamp' | 'svix-signature', string>>;
  /** A `POST` of this delivery to `url`, e.g. for a fetch handler or `verifyWebhook` itself. */
  toRequest(url: string | URL): Request;
}

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function secretBytes(signingSecret: string): Uint8Array<ArrayBuffer> {
  const encoded = signingSecret.startsWith(PREFIX) ? signingSecret.slice(PREFIX.length) : signingSecret;
  let binary: string;
  try {
    binary = atob(encoded);
  } catch {
    binary = '';
  }
  if (binary.length === 0) {
    throw new TypeError(
      'The webhook signing secret must be whsec_ followed by base64, as the Clerk Dashboard shows it (Webhooks → your endpoint → Signing Secret), ' +
        'or one from createWebhookSigningSecret().',
    );
  }
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function randomId(): string {
  return base64(crypto.getRandomValues(new Uint8Array(18))).replace(/[+/=]/g, 'x');
}

/**
 * Creates a fresh random webhook signing secret in Clerk's format (`whsec_` + 24 random bytes in
 * base64). Use it as `CLERK_WEBHOOK_SIGNING_SECRET` for the server under test.
 *
 * @example
 * ```ts
 * import { createWebhookSigningSecret } from 'clerk-api-auth/testing';
 *
 * const signingSecret = createWebhookSigningSecret();
 * process.env.CLERK_WEBHOOK_SIGNING_SECRET = signingSecret; // before the server under test reads it
 * const delivery = await signWebhook({ type: 'user.deleted', data: { id: 'user_123', deleted: true } }, { signingSecret });
 * ```
 */
export function createWebhookSigningSecret(): string {
  return `${PREFIX}${base64(crypto.getRandomValues(new Uint8Array(24)))}`;
}

/**
 * Signs a webhook payload the way Clerk (Svix) does, so a handler that verifies with
 * `verifyWebhook` from `@clerk/backend/webhooks` accepts it. An object is completed into Clerk's
 * envelope and serialized once; a string is signed as is. Nothing leaves the process.
 *
 * Useful variations: change `body` after signing (tampered), set `signedAt` more than five minutes
 * back (a stale replay, which `verifyWebhook` refuses), or reuse `id` (a redelivery, which your
 * handler should acknowledge without processing twice).
 *
 * @param event - The event, or a raw body string.
 * @param options - The signing secret, and optionally the message id and signing time.
 *
 * @example
 * ```ts
 * import { verifyWebhook } from '@clerk/backend/webhooks';
 * import { createWebhookSigningSecret, signWebhook } from 'clerk-api-auth/testing';
 *
 * const signingSecret = createWebhookSigningSecret();
 * const delivery = await signWebhook({ type: 'user.created', data: { id: 'user_123' } }, { signingSecret });
 * const event = await verifyWebhook(delivery.toRequest('http://localhost/webhooks/clerk'), { signingSecret });
 * console.log(event.type); // 'user.created'
 * ```
 */
export async function signWebhook(event: WebhookEventInput | string, options: SignWebhookOptions): Promise<SignedWebhook> {
  const key = await crypto.subtle.importKey('raw', secretBytes(options.signingSecret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const id = options.id ?? `msg_${randomId()}`;
  const signedAt = options.signedAt ?? new Date();
  const timestamp = Math.floor(signedAt.getTime() / 1000);
  if (!Number.isFinite(timestamp)) throw new TypeError('`signedAt` must be a valid Date.');
  const body =
    typeof event === 'string'
      ? event
      : JSON.stringify({
          data: event.data,
          event_attributes: event.event_attributes ?? { http_request: { client_ip: '127.0.0.1', user_agent: 'clerk-api-auth/testing' } },
          instance_id: event.instance_id ?? 'ins_test',
          object: event.object ?? 'event',
          timestamp: event.timestamp ?? Date.now(),
          type: event.type,
        });
  const mac = await crypto.subtle.sign('HMAC', key, encoder.encode(`${id}.${timestamp}.${body}`));
  const headers = {
    'content-type': 'application/json',
    'svix-id': id,
    'svix-timestamp': String(timestamp),
    'svix-signature': `v1,${base64(new Uint8Array(mac))}`,
  } as const;
  return {
    id,
    timestamp,
    body,
    headers,
    toRequest: (url) => new Request(url, { method: 'POST', headers, body }),
  };
}
