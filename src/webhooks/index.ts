/**
 * Clerk webhooks for any server, verified with `@clerk/backend/webhooks` over the raw body and
 * processed once per delivery across every instance sharing a store: `clerkWebhooks({ on, store })`
 * gives a fetch handler, an Express / `node:http` handler and a Fastify plugin.
 *
 * @packageDocumentation
 */
export { clerkWebhooks } from './clerk-webhooks.js';
export type { ClerkWebhooks, ClerkWebhooksOptions, WebhookAnswer, WebhookDelivery, WebhookEventOf, WebhookHandlers } from './clerk-webhooks.js';
export type { NodeWebhookRequest, NodeWebhookResponse } from './node.js';
export type { FastifyWebhookInstance, FastifyWebhookPlugin, FastifyWebhookReply, FastifyWebhookRequest } from './fastify.js';
export type { WebhookEvent, WebhookEventType } from '@clerk/backend/webhooks';
