/**
 * `clerk-api-auth/webhooks`: deliveries signed by the test issuer (as Svix signs them) are verified by
 * `@clerk/backend/webhooks` over the raw body, dispatched to typed handlers, and processed once per
 * `svix-id` across instances sharing a store; marked processed only after the handlers succeed.
 * Served for real over loopback by `node:http`, Express (raw body, no parser, and the misconfigured
 * `express.json()`), and Fastify (the plugin).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ClerkAuthConfigError, createMemoryStore, type ClerkAuthStore } from 'clerk-api-auth';
import { createTestIssuer, type SignedWebhook, type TestIssuer } from 'clerk-api-auth/testing';
import { clerkWebhooks, type WebhookEvent } from 'clerk-api-auth/webhooks';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});

const userCreated = (id: string) => ({ type: 'user.created', data: { id, email_addresses: [{ id: 'idn_1', email_address: `${id}@example.com` }], primary_email_address_id: 'idn_1' } }) as const;

function recorder() {
  const seen: string[] = [];
  return { seen, onEvent: (event: WebhookEvent) => void seen.push(`${event.type} ${'id' in event.data ? String(event.data.id) : ''}`) };
}

async function post(url: string, delivery: Pick<SignedWebhook, 'headers' | 'body'>, extra: RequestInit = {}) {
  const response = await fetch(url, { method: 'POST', headers: delivery.headers, body: delivery.body, ...extra });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

describe('clerkWebhooks (fetch handler)', () => {
  it('verifies, processes once, and acknowledges a redelivery (same svix-id, fresh signature) as a duplicate', async () => {
    const { seen, onEvent } = recorder();
    const webhooks = clerkWebhooks({ signingSecret: issuer.webhookSigningSecret, onEvent });
    const delivery = await issuer.signWebhook(userCreated('user_1'));
    const first = await webhooks.fetch(delivery.toRequest('http://localhost/webhooks/clerk'));
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ received: true, duplicate: false });
    const redelivery = await issuer.signWebhook(userCreated('user_1'), { id: delivery.id });
    const second = await webhooks.fetch(redelivery.toRequest('http://localhost/webhooks/clerk'));
    expect([second.status, await second.json()]).toEqual([200, { received: true, duplicate: true }]);
    expect(seen).toEqual(['user.created user_1']);
  });

  it('400 and nothing processed for a tampered body, a forged id, another secret, a stale timestamp or missing headers', async () => {
    const { seen, onEvent } = recorder();
    const webhooks = clerkWebhooks({ signingSecret: issuer.webhookSigningSecret, onEvent });
    const delivery = await issuer.signWebhook(userCreated('user_2'));
    const other = await createTestIssuer();
    const cases: Array<[string, Promise<Response>]> = [
      ['tampered', webhooks.fetch(new Request('http://x/', { method: 'POST', headers: delivery.headers, body: delivery.body.replace('user_2', 'user_666') }))],
      ['forged id', webhooks.fetch(new Request('http://x/', { method: 'POST', headers: { ...delivery.headers, 'svix-id': 'msg_forged' }, body: delivery.body }))],
      ['other secret', webhooks.fetch((await other.signWebhook(userCreated('user_2'))).toRequest('http://x/'))],
      ['stale', webhooks.fetch((await issuer.signWebhook(userCreated('user_2'), { signedAt: new Date(Date.now() - 10 * 60_000) })).toRequest('http://x/'))],
      ['unsigned', webhooks.fetch(new Request('http://x/', { method: 'POST', body: delivery.body }))],
    ];
    for (const [name, pending] of cases) {
      const response = await pending;
      expect(response.status, name).toBe(400);
      expect(await response.json(), name).toMatchObject({ error: 'invalid_webhook', message: expect.any(String) });
    }
    expect(seen).toEqual([]);
  });

  it('dispatches to typed handlers by event type, then onEvent; unhandled types are acknowledged', async () => {
    const calls: string[] = [];
    const webhooks = clerkWebhooks({
      signingSecret: issuer.webhookSigningSecret,
      on: {
        'user.created': (event) => void calls.push(`created ${event.data.email_addresses[0]?.email_address ?? ''}`),
        'user.deleted': (event) => void calls.push(`deleted ${String(event.data.deleted)}`),
      },
      onEvent: (event) => void calls.push(`any ${event.type}`),
    });
    for (const event of [userCreated('user_3'), { type: 'user.deleted', data: { id: 'user_3', deleted: true, object: 'user' } }, { type: 'session.created', data: { id: 'sess_1' } }]) {
      expect((await webhooks.fetch((await issuer.signWebhook(event)).toRequest('http://x/'))).status).toBe(200);
    }
    expect(calls).toEqual(['created user_3@example.com', 'any user.created', 'deleted true', 'any user.deleted', 'any session.created']);
  });

  it('a failing handler answers 500 (not marked processed), so the retry processes it; the error is reported, not returned', async () => {
    let fail = true;
    const { seen, onEvent } = recorder();
    const reported: string[] = [];
    const webhooks = clerkWebhooks({
      signingSecret: issuer.webhookSigningSecret,
      onEvent: (event) => {
        if (fail) throw new Error('database down');
        onEvent(event);
      },
      onError: (error, event, delivery) => void reported.push(`${event.type} ${delivery.id} ${(error as Error).message}`),
    });
    const delivery = await issuer.signWebhook(userCreated('user_4'));
    const first = await webhooks.fetch(delivery.toRequest('http://x/'));
    expect(first.status).toBe(500);
    const body = await first.text();
    expect(body).toContain('handler_failed');
    expect(body).not.toContain('database down');
    expect(reported).toEqual([`user.created ${delivery.id} database down`]);
    fail = false;
    const retry = await webhooks.fetch((await issuer.signWebhook(userCreated('user_4'), { id: delivery.id })).toRequest('http://x/'));
    expect([retry.status, await retry.json()]).toEqual([200, { received: true, duplicate: false }]);
    expect(seen).toEqual(['user.created user_4']);
  });

  it('two instances sharing a store process a delivery once, also when it reaches both at the same moment', async () => {
    const store = createMemoryStore();
    let runs = 0;
    const slow = async () => {
      runs += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
    };
    const [a, b] = [clerkWebhooks({ signingSecret: issuer.webhookSigningSecret, store, onEvent: slow }), clerkWebhooks({ signingSecret: issuer.webhookSigningSecret, store, onEvent: slow })];
    const delivery = await issuer.signWebhook(userCreated('user_5'));
    const answers = await Promise.all([a, b, a, b].map(async (instance) => (await instance.fetch(delivery.toRequest('http://x/'))).json()));
    expect(runs).toBe(1);
    expect(answers.filter((answer) => (answer as { duplicate?: boolean }).duplicate === false)).toHaveLength(1);
    expect(answers.filter((answer) => (answer as { duplicate?: boolean }).duplicate === true)).toHaveLength(3);
    // Another endpoint (another signing secret) sharing the store does not see this one's deliveries.
    const otherIssuer = await createTestIssuer();
    const other = clerkWebhooks({ signingSecret: otherIssuer.webhookSigningSecret, store, onEvent: slow });
    const sameId = await otherIssuer.signWebhook(userCreated('user_5'), { id: delivery.id });
    expect(await (await other.fetch(sameId.toRequest('http://x/'))).json()).toEqual({ received: true, duplicate: false });
  });

  it('a store that is down answers 503 with Retry-After and processes nothing', async () => {
    const down: ClerkAuthStore = {
      get: () => Promise.reject(new Error('ECONNREFUSED')),
      set: () => Promise.reject(new Error('ECONNREFUSED')),
      setIfAbsent: () => Promise.reject(new Error('ECONNREFUSED')),
      deleteIfEquals: () => Promise.reject(new Error('ECONNREFUSED')),
    };
    const { seen, onEvent } = recorder();
    const webhooks = clerkWebhooks({ signingSecret: issuer.webhookSigningSecret, store: down, onEvent });
    const response = await webhooks.fetch((await issuer.signWebhook(userCreated('user_6'))).toRequest('http://x/'));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('10');
    expect(await response.json()).toMatchObject({ error: 'store_unavailable' });
    expect(seen).toEqual([]);
  });

  it('405 for another method, 413 for a body over maxBodyBytes', async () => {
    const webhooks = clerkWebhooks({ signingSecret: issuer.webhookSigningSecret, maxBodyBytes: 100 });
    const get = await webhooks.fetch(new Request('http://x/'));
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST']);
    const big = await issuer.signWebhook({ type: 'user.created', data: { id: 'user_big', padding: 'x'.repeat(200) } });
    expect((await webhooks.fetch(big.toRequest('http://x/'))).status).toBe(413);
  });

  it('reads CLERK_WEBHOOK_SIGNING_SECRET, and refuses at creation a missing or malformed secret and bad options', async () => {
    const fromEnv = clerkWebhooks({ env: { CLERK_WEBHOOK_SIGNING_SECRET: issuer.webhookSigningSecret } });
    expect((await fromEnv.fetch((await issuer.signWebhook(userCreated('user_7'))).toRequest('http://x/'))).status).toBe(200);
    const cases: Array<[Parameters<typeof clerkWebhooks>[0], RegExp]> = [
      [{ env: {} }, /CLERK_WEBHOOK_SIGNING_SECRET/],
      [{ env: { CLERK_WEBHOOK_SIGNING_SECRET: '  ' } }, /CLERK_WEBHOOK_SIGNING_SECRET/],
      [{ signingSecret: 'whsec_' }, /whsec_ followed by base64/],
      [{ signingSecret: 'not a secret!' }, /whsec_ followed by base64/],
      [{ signingSecret: issuer.webhookSigningSecret, store: {} as ClerkAuthStore }, /`store` must be a store/],
      [{ signingSecret: issuer.webhookSigningSecret, rememberMs: 0 }, /rememberMs/],
      [{ signingSecret: issuer.webhookSigningSecret, on: { 'user.created': 'nope' as never } }, /on\["user.created"\]/],
    ];
    for (const [options, message] of cases) {
      expect(() => clerkWebhooks(options), message.source).toThrow(ClerkAuthConfigError);
      expect(() => clerkWebhooks(options), message.source).toThrow(message);
    }
    // The secret never appears in what is thrown.
    try {
      clerkWebhooks({ signingSecret: 'whsec_!!notbase64!!' });
    } catch (error) {
      expect((error as Error).message).not.toContain('notbase64');
    }
  });
});

describe('served by real servers over loopback', () => {
  const servers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const close of servers) await close();
  });
  async function listen(server: Server): Promise<string> {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/clerk`;
  }

  it('node:http: reads the raw body itself', async () => {
    const { seen, onEvent } = recorder();
    const webhooks = clerkWebhooks({ signingSecret: issuer.webhookSigningSecret, onEvent });
    const url = await listen(createServer((req, res) => void webhooks.node(req, res)));
    const delivery = await issuer.signWebhook(userCreated('user_node'));
    expect(await post(url, delivery)).toMatchObject({ status: 200, body: { received: true, duplicate: false } });
    expect(await post(url, delivery)).toMatchObject({ status: 200, body: { received: true, duplicate: true } });
    expect((await post(url, { ...delivery, body: `${delivery.body} ` })).status).toBe(400);
    expect((await fetch(url)).status).toBe(405);
    expect(seen).toEqual(['user.created user_node']);
  });

  it('Express: with express.raw(), with no parser, and 500 naming the fix behind express.json()', async () => {
    const { seen, onEvent } = recorder();
    const webhooks = clerkWebhooks({ signingSecret: issuer.webhookSigningSecret, onEvent });
    const app = express();
    app.post('/raw/webhooks/clerk', express.raw({ type: '*/*' }), webhooks.node);
    app.post('/plain/webhooks/clerk', webhooks.node);
    app.use(express.json());
    app.post('/json/webhooks/clerk', webhooks.node);
    const base = (await listen(createServer(app))).replace('/webhooks/clerk', '');
    const raw = await issuer.signWebhook(userCreated('user_raw'));
    expect(await post(`${base}/raw/webhooks/clerk`, raw)).toMatchObject({ status: 200, body: { duplicate: false } });
    const plain = await issuer.signWebhook(userCreated('user_plain'));
    expect(await post(`${base}/plain/webhooks/clerk`, plain)).toMatchObject({ status: 200, body: { duplicate: false } });
    const parsed = await issuer.signWebhook(userCreated('user_parsed'));
    const misconfigured = await post(`${base}/json/webhooks/clerk`, parsed);
    expect(misconfigured).toMatchObject({ status: 500, body: { error: 'raw_body_required', message: expect.stringContaining('express.json()') } });
    expect(seen).toEqual(['user.created user_raw', 'user.created user_plain']);
  });

  it('Fastify: the plugin receives the raw body in its own context (the app keeps parsing JSON elsewhere)', async () => {
    const { seen, onEvent } = recorder();
    const webhooks = clerkWebhooks({ signingSecret: issuer.webhookSigningSecret, onEvent });
    const app = Fastify();
    await app.register(webhooks.fastifyPlugin, { path: '/webhooks/clerk' });
    app.post('/echo', async (request) => ({ parsed: request.body }));
    app.post('/bare/webhooks/clerk', webhooks.fastify);
    await app.listen({ port: 0, host: '127.0.0.1' });
    servers.push(() => app.close());
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const delivery = await issuer.signWebhook(userCreated('user_fastify'));
    expect(await post(`${base}/webhooks/clerk`, delivery)).toMatchObject({ status: 200, body: { received: true, duplicate: false } });
    expect(await post(`${base}/webhooks/clerk`, delivery)).toMatchObject({ status: 200, body: { duplicate: true } });
    expect((await post(`${base}/webhooks/clerk`, { ...delivery, body: delivery.body.replace('user_fastify', 'user_evil') })).status).toBe(400);
    const echo = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(await echo.json()).toEqual({ parsed: { a: 1 } });
    // The bare handler behind Fastify's JSON parser cannot verify, and says how to fix it.
    const bare = await post(`${base}/bare/webhooks/clerk`, await issuer.signWebhook(userCreated('user_bare')));
    expect(bare).toMatchObject({ status: 500, body: { error: 'raw_body_required', message: expect.stringContaining('fastifyPlugin') } });
    expect(seen).toEqual(['user.created user_fastify']);
  });

  it('the default error report names the event and delivery, never the body', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const webhooks = clerkWebhooks({
        signingSecret: issuer.webhookSigningSecret,
        onEvent: () => {
          throw new Error('boom');
        },
      });
      const delivery = await issuer.signWebhook(userCreated('user_secret_email'));
      expect((await webhooks.fetch(delivery.toRequest('http://x/'))).status).toBe(500);
      expect(error).toHaveBeenCalledTimes(1);
      const line = String(error.mock.calls[0]?.[0]);
      expect(line).toContain(`user.created (${delivery.id})`);
      expect(line).toContain('boom');
      expect(line).not.toContain('user_secret_email@example.com');
    } finally {
      error.mockRestore();
    }
  });
});
