/**
 * Webhook deliveries signed by `clerk-api-auth/testing` are verified by Clerk's own
 * `verifyWebhook` (`@clerk/backend/webhooks`, Standard Webhooks / Svix) exactly like real ones, and
 * every change an attacker could make is refused by it. Then the example's fetch handler around it:
 * idempotent on redelivery, retryable on handler failure, 501 without a secret.
 */
import { verifyWebhook } from '@clerk/backend/webhooks';
import { describe, expect, it } from 'vitest';
import { createTestIssuer, createWebhookSigningSecret, signWebhook } from 'clerk-api-auth/testing';
import { clerkWebhookHandler } from '../../examples/express/webhooks.js';

const URL_ = 'http://localhost/webhooks/clerk';
const userCreated = { type: 'user.created', data: { id: 'user_123', email_addresses: [], primary_email_address_id: null } } as const;

async function rejectionOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected verification to fail, but it succeeded');
}

describe('signWebhook, verified by @clerk/backend/webhooks', () => {
  it('a valid delivery verifies, in Clerk’s envelope', async () => {
    const signingSecret = createWebhookSigningSecret();
    expect(signingSecret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const delivery = await signWebhook(userCreated, { signingSecret });
    expect(Object.keys(delivery.headers).sort()).toEqual(['content-type', 'svix-id', 'svix-signature', 'svix-timestamp']);
    expect(delivery.headers['svix-signature']).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);
    const event = await verifyWebhook(delivery.toRequest(URL_), { signingSecret });
    expect(event).toMatchObject({ type: 'user.created', object: 'event', data: { id: 'user_123' }, instance_id: 'ins_test' });
    expect(typeof event.timestamp).toBe('number');
  });

  it('the issuer signs with its own secret, which the server is configured with', async () => {
    const issuer = await createTestIssuer();
    expect(issuer.webhookSigningSecret).toMatch(/^whsec_/);
    const delivery = await issuer.signWebhook(userCreated);
    await expect(verifyWebhook(delivery.toRequest(URL_), { signingSecret: issuer.webhookSigningSecret })).resolves.toMatchObject({ type: 'user.created' });
    const chosen = createWebhookSigningSecret();
    const pinned = await createTestIssuer({ webhookSigningSecret: chosen });
    expect(pinned.webhookSigningSecret).toBe(chosen);
  });

  it('a tampered body, a forged id, or another secret fail verification', async () => {
    const signingSecret = createWebhookSigningSecret();
    const delivery = await signWebhook(userCreated, { signingSecret });
    const tampered = new Request(URL_, { method: 'POST', headers: delivery.headers, body: delivery.body.replace('user_123', 'user_666') });
    expect(await rejectionOf(verifyWebhook(tampered, { signingSecret }))).toContain('No matching signature found');
    const forgedId = new Request(URL_, { method: 'POST', headers: { ...delivery.headers, 'svix-id': 'msg_other' }, body: delivery.body });
    expect(await rejectionOf(verifyWebhook(forgedId, { signingSecret }))).toContain('No matching signature found');
    expect(await rejectionOf(verifyWebhook(delivery.toRequest(URL_), { signingSecret: createWebhookSigningSecret() }))).toContain('No matching signature found');
  });

  it('a replay signed more than five minutes ago is refused as too old (and one from the future as too new)', async () => {
    const signingSecret = createWebhookSigningSecret();
    const stale = await signWebhook(userCreated, { signingSecret, signedAt: new Date(Date.now() - 10 * 60_000) });
    expect(await rejectionOf(verifyWebhook(stale.toRequest(URL_), { signingSecret }))).toContain('Message timestamp too old');
    const future = await signWebhook(userCreated, { signingSecret, signedAt: new Date(Date.now() + 10 * 60_000) });
    expect(await rejectionOf(verifyWebhook(future.toRequest(URL_), { signingSecret }))).toContain('Message timestamp too new');
  });

  it('signs a raw string body as is, keeps a given id, and accepts a secret without the whsec_ prefix', async () => {
    const signingSecret = createWebhookSigningSecret();
    const body = '{"type":"session.created","object":"event","data":{"id":"sess_1"}}';
    const delivery = await signWebhook(body, { signingSecret: signingSecret.slice('whsec_'.length), id: 'msg_fixed' });
    expect(delivery.body).toBe(body);
    expect(delivery.id).toBe('msg_fixed');
    await expect(verifyWebhook(delivery.toRequest(URL_), { signingSecret })).resolves.toMatchObject({ type: 'session.created' });
  });

  it('refuses a secret that is not base64, naming where the real one is', async () => {
    await expect(signWebhook(userCreated, { signingSecret: 'whsec_' })).rejects.toThrow(/Clerk Dashboard/);
    await expect(signWebhook(userCreated, { signingSecret: 'not base64 at all!' })).rejects.toThrow(TypeError);
  });
});

describe('the example’s webhook handler (examples/express/webhooks.ts)', () => {
  it('processes a delivery once, acknowledges its redelivery, and refuses tampered and stale ones', async () => {
    const issuer = await createTestIssuer();
    const seen: string[] = [];
    const handle = clerkWebhookHandler({ signingSecret: issuer.webhookSigningSecret, onEvent: (event) => void seen.push(event.type) });

    const delivery = await issuer.signWebhook(userCreated);
    expect(await (await handle(delivery.toRequest(URL_))).json()).toEqual({ received: true, duplicate: false });
    const again = await handle(delivery.toRequest(URL_));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ received: true, duplicate: true });

    const tampered = await handle(new Request(URL_, { method: 'POST', headers: delivery.headers, body: `${delivery.body} ` }));
    expect(tampered.status).toBe(400);
    const stale = await issuer.signWebhook(userCreated, { signedAt: new Date(Date.now() - 10 * 60_000) });
    const staleResponse = await handle(stale.toRequest(URL_));
    expect(staleResponse.status).toBe(400);
    expect(await staleResponse.json()).toEqual({ error: 'invalid_webhook', message: expect.stringContaining('timestamp too old') });
    const unsigned = await handle(new Request(URL_, { method: 'POST', body: delivery.body }));
    expect(unsigned.status).toBe(400);

    expect(seen).toEqual(['user.created']);
  });

  it('answers 500 when the handler throws, so Clerk retries, and processes the retry', async () => {
    const issuer = await createTestIssuer();
    let fail = true;
    const seen: string[] = [];
    const handle = clerkWebhookHandler({
      signingSecret: issuer.webhookSigningSecret,
      onEvent: (event) => {
        if (fail) throw new Error('database down');
        seen.push(event.type);
      },
    });
    const delivery = await issuer.signWebhook(userCreated);
    const first = await handle(delivery.toRequest(URL_));
    expect(first.status).toBe(500);
    expect(JSON.stringify(await first.json())).not.toContain('database down');
    fail = false;
    expect((await handle(delivery.toRequest(URL_))).status).toBe(200);
    expect(seen).toEqual(['user.created']);
  });

  it('answers 501 naming CLERK_WEBHOOK_SIGNING_SECRET when no secret is configured', async () => {
    const issuer = await createTestIssuer();
    const handle = clerkWebhookHandler({ signingSecret: undefined, onEvent: () => {} });
    const response = await handle((await issuer.signWebhook(userCreated)).toRequest(URL_));
    expect(response.status).toBe(501);
    expect(JSON.stringify(await response.json())).toContain('CLERK_WEBHOOK_SIGNING_SECRET');
  });
});
