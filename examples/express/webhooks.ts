/**
 * A Clerk webhook endpoint as a fetch handler (`(Request) => Promise<Response>`), so the same code
 * runs in Express (see server.ts), a Next.js route handler, Hono or a Worker. Verification is
 * `@clerk/backend/webhooks`' `verifyWebhook` (Svix signature over the raw body, 5-minute timestamp
 * tolerance); this file adds what every endpoint needs around it:
 *
 * - 400 for a delivery that fails verification (bad signature, tampered body, stale timestamp);
 * - idempotency: Svix redelivers a message with the same `svix-id` until it gets a 2xx, so a message
 *   already processed is acknowledged again without being processed twice;
 * - 500 when your handler throws, so Svix retries later (the message is not marked processed);
 * - 501 naming `CLERK_WEBHOOK_SIGNING_SECRET` when no signing secret is configured.
 */
import { verifyWebhook, type WebhookEvent } from '@clerk/backend/webhooks';

export interface ClerkWebhookHandlerOptions {
  /** The endpoint's signing secret (`whsec_…`), from `CLERK_WEBHOOK_SIGNING_SECRET`. */
  signingSecret: string | undefined;
  /** Handles one verified event. Throw to have Clerk retry the delivery later. */
  onEvent: (event: WebhookEvent) => void | Promise<void>;
  /** How many processed message ids to remember for deduplication. Default 10,000. */
  rememberIds?: number;
}

const json = (status: number, body: Record<string, unknown>): Response => Response.json(body, { status });

export function clerkWebhookHandler(options: ClerkWebhookHandlerOptions): (request: Request) => Promise<Response> {
  const { signingSecret, onEvent } = options;
  const limit = options.rememberIds ?? 10_000;
  const processed = new Set<string>();

  return async function handleClerkWebhook(request: Request): Promise<Response> {
    if (!signingSecret) {
      return json(501, {
        error: 'webhooks_not_configured',
        message: 'Set CLERK_WEBHOOK_SIGNING_SECRET to the Signing Secret of this endpoint (Clerk Dashboard → Webhooks).',
      });
    }
    let event: WebhookEvent;
    try {
      event = await verifyWebhook(request, { signingSecret });
    } catch (error) {
      // The reason is safe to return ("No matching signature found", "Message timestamp too old", ...).
      const reason = error instanceof Error ? error.message : 'verification failed';
      return json(400, { error: 'invalid_webhook', message: reason });
    }

    // Verified, so svix-id is authentic: it is part of what was signed.
    const id = request.headers.get('svix-id') ?? '';
    if (processed.has(id)) return json(200, { received: true, duplicate: true });
    try {
      await onEvent(event);
    } catch {
      return json(500, { error: 'handler_failed', message: 'The event could not be processed; Clerk will retry the delivery.' });
    }
    processed.add(id);
    if (processed.size > limit) processed.delete(processed.values().next().value as string);
    return json(200, { received: true });
  };
}
