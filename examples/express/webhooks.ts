/**
 * A Clerk webhook endpoint as a fetch handler (`(Request) => Promise<Response>`), so the same code
 * runs in Express (see server.ts), a Next.js route handler, Hono or a Worker. It is
 * `clerkWebhooks` from `clerk-api-auth/webhooks`, which does what every endpoint needs:
 *
 * - verification with `@clerk/backend/webhooks`' `verifyWebhook` over the raw body (Svix signature,
 *   5-minute timestamp tolerance): 400 for a delivery that fails it, and nothing processed;
 * - idempotency: Svix redelivers a message with the same `svix-id` until it gets a 2xx, so a message
 *   already processed — by this instance, or by any other sharing the store (`REDIS_URL`) — is
 *   acknowledged with `{"received":true,"duplicate":true}` without being processed twice;
 * - 500 when your handler throws, so Svix retries later (the message is not marked processed).
 *
 * This file adds the one thing the package leaves to the app: 501 naming
 * `CLERK_WEBHOOK_SIGNING_SECRET` while no signing secret is configured (the package refuses to be
 * created without one).
 */
import type { WebhookEvent } from '@clerk/backend/webhooks';
import type { ClerkAuthStore } from 'clerk-api-auth';
import { clerkWebhooks } from 'clerk-api-auth/webhooks';

export interface ClerkWebhookHandlerOptions {
  /** The endpoint's signing secret (`whsec_…`), from `CLERK_WEBHOOK_SIGNING_SECRET`. */
  signingSecret: string | undefined;
  /** Handles one verified event. Throw to have Clerk retry the delivery later. */
  onEvent: (event: WebhookEvent) => void | Promise<void>;
  /** Where processed deliveries are remembered: the Redis store with `REDIS_URL`, else this process's memory. */
  store?: ClerkAuthStore;
  /** Where a failing handler is reported. Default: one `console.error` line. */
  onError?: (error: unknown, event: WebhookEvent) => void;
}

export function clerkWebhookHandler(options: ClerkWebhookHandlerOptions): (request: Request) => Promise<Response> {
  const { signingSecret, onEvent, store, onError } = options;
  if (!signingSecret) {
    return async () =>
      Response.json(
        {
          error: 'webhooks_not_configured',
          message: 'Set CLERK_WEBHOOK_SIGNING_SECRET to the Signing Secret of this endpoint (Clerk Dashboard → Webhooks).',
        },
        { status: 501 },
      );
  }
  const webhooks = clerkWebhooks({
    signingSecret,
    onEvent,
    ...(store && { store }),
    ...(onError && { onError: (error: unknown, event: WebhookEvent) => onError(error, event) }),
  });
  return webhooks.fetch;
}
