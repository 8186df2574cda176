/**
 * Three instances of the reference app, each its own process configured only from the environment,
 * sharing one real redis-server (REDIS_URL) and one Backend API stand-in that answers verifications
 * in 20 ms and counts them:
 *
 * - 300 requests carrying 10 distinct API keys, spread over the instances, make 10 Backend API
 *   verifications between them (and opaque M2M tokens on the reference router's `machine.ping` too);
 * - a key revoked at the stand-in is refused on every instance within the accepted TTL (10 s);
 * - the same webhook delivered to all three instances is processed once (also all at once); a
 *   failing one is answered 500 and not marked processed;
 * - Redis stopped mid-run: every request still gets the right answer, asked of Clerk directly, and
 *   nothing is accepted that should not be; webhooks are answered 503 and not processed;
 * - Redis back: sharing resumes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type OpaqueTokenRecord, type TestIssuer } from 'clerk-api-auth/testing';
import { startRedisServer, type RedisServer } from './redis-server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/instance.ts', import.meta.url));
const ACCEPTED_TTL_MS = 10_000; // the default, which the reference servers use
const VERIFY_ROUTES = ['api_keys.verify', 'm2m_tokens.verify'];

interface Instance {
  child: ChildProcess;
  express: string;
  keys: string;
  lines: string[];
}

let redis: RedisServer;
let issuer: TestIssuer;
let api: FakeClerkApi;
let instances: Instance[] = [];
let apiKeys: OpaqueTokenRecord[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(predicate: () => boolean | Promise<boolean>, what: string, boundMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > boundMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function startInstance(env: NodeJS.ProcessEnv): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buffered = '';
  let errors = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  return new Promise((resolve, reject) => {
    const check = setInterval(() => {
      const ready = lines.find((line) => line.startsWith('READY '));
      if (ready === undefined) return;
      clearInterval(check);
      const urls = JSON.parse(ready.slice('READY '.length)) as { express: string; keys: string };
      resolve({ child, lines, ...urls });
    }, 50);
    child.once('exit', (code) => {
      clearInterval(check);
      reject(new Error(`instance exited early (${String(code)}):\n${lines.join('\n')}\n${errors}`));
    });
  });
}

async function stopInstance(instance: Instance): Promise<void> {
  const { child } = instance;
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
}

interface Metrics {
  backendApiCalls: number;
  servedFromStore: number;
  rejectedFromStore: number;
  joinedInFlight: number;
  waitedForOtherInstance: number;
  storeFailures: number;
  storeReady: boolean | null;
}
const metricsOf = async (instance: Instance): Promise<Metrics> => (await (await fetch(`${instance.keys.replace(/\/trpc$/, '')}/metrics`)).json()) as Metrics;

async function keysPing(instance: Instance, token: string): Promise<{ status: number; subject?: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${instance.keys}/keys.ping`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await response.json()) as { result?: { data?: { subject?: string } } };
  return { status: response.status, ms: performance.now() - started, ...(body.result?.data?.subject !== undefined && { subject: body.result.data.subject }) };
}

async function machinePing(instance: Instance, token: string): Promise<{ status: number; machineId?: string }> {
  const response = await fetch(`${instance.express}/trpc/machine.ping`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await response.json()) as { result?: { data?: { machineId?: string } } };
  return { status: response.status, ...(body.result?.data?.machineId !== undefined && { machineId: body.result.data.machineId }) };
}

async function deliver(instance: Instance, delivery: { headers: Record<string, string>; body: string }): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${instance.express}/webhooks/clerk`, { method: 'POST', headers: delivery.headers, body: delivery.body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Runs `tasks` with at most `width` in flight. */
async function pool<T>(tasks: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const index = next++;
        results[index] = await (tasks[index] as () => Promise<T>)();
      }
    }),
  );
  return results;
}

const processed = (needle: string) => instances.reduce((sum, instance) => sum + instance.lines.filter((line) => line === needle).length, 0);

beforeAll(async () => {
  redis = await startRedisServer();
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer });
  api.setFault({ mode: 'none', delayMs: 20, routes: VERIFY_ROUTES });
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('CLERK_') && !key.startsWith('VITEST') && key !== 'PORT' && key !== 'REDIS_URL' && key !== 'NODE_OPTIONS') env[key] = value;
  Object.assign(env, {
    CLERK_TELEMETRY_DISABLED: '1',
    CLERK_SECRET_KEY: issuer.secretKey,
    CLERK_API_URL: api.apiUrl,
    CLERK_WEBHOOK_SIGNING_SECRET: issuer.webhookSigningSecret,
    REDIS_URL: redis.url,
  });
  instances = await Promise.all([startInstance(env), startInstance(env), startInstance(env)]);
  await until(async () => (await Promise.all(instances.map(metricsOf))).every((m) => m.storeReady === true), 'every instance to connect to Redis');
  apiKeys = Array.from({ length: 10 }, (_, i) => issuer.apiKey({ subject: `user_key${i}`, scopes: ['notes:read'] }));
}, 120_000);

afterAll(async () => {
  await Promise.all(instances.map(stopInstance));
  await api?.close();
  await redis?.close();
});

describe('three instances sharing Redis', () => {
  it('300 requests with 10 distinct API keys across the instances: 10 Backend API verifications between them', async () => {
    api.resetCounts();
    const started = performance.now();
    const results = await pool(
      Array.from({ length: 300 }, (_, i) => async () => {
        const key = apiKeys[(i * 7) % 10] as OpaqueTokenRecord;
        return { expected: key.subject, ...(await keysPing(instances[i % 3] as Instance, key.token)) };
      }),
      30,
    );
    const elapsed = performance.now() - started;
    expect(results.map((r) => r.status)).toEqual(Array(300).fill(200));
    expect(results.every((r) => r.subject === r.expected)).toBe(true);
    const calls = api.count('api_keys.verify');
    const metrics = await Promise.all(instances.map(metricsOf));
    console.log(
      `[shared store] 300 requests, 10 API keys, 3 instances: ${calls} Backend API verifications (${elapsed.toFixed(0)} ms); ` +
        `per instance calls ${metrics.map((m) => m.backendApiCalls).join('/')}, from store ${metrics.map((m) => m.servedFromStore).join('/')}, ` +
        `waited for another instance ${metrics.map((m) => m.waitedForOtherInstance).join('/')}, joined in flight ${metrics.map((m) => m.joinedInFlight).join('/')}`,
    );
    expect(calls).toBe(10);
    expect(metrics.reduce((sum, m) => sum + m.backendApiCalls, 0)).toBe(10);
    expect(metrics.reduce((sum, m) => sum + m.storeFailures, 0)).toBe(0);
  });

  it('opaque M2M tokens on the reference router (machine.ping) are shared the same way', async () => {
    api.resetCounts();
    const tokens = Array.from({ length: 3 }, (_, i) => issuer.opaqueM2mToken({ machineId: `mch_worker${i}` }));
    const results = await pool(
      Array.from({ length: 60 }, (_, i) => () => machinePing(instances[i % 3] as Instance, (tokens[i % 3] as OpaqueTokenRecord).token)),
      15,
    );
    expect(results.map((r) => r.status)).toEqual(Array(60).fill(200));
    expect(results.map((r) => r.machineId)).toEqual(Array.from({ length: 60 }, (_, i) => `mch_worker${i % 3}`));
    expect(api.count('m2m_tokens.verify')).toBe(3);
  });

  it('a key revoked at the stand-in is refused on every instance within the TTL, and stays refused', async () => {
    const key = apiKeys[0] as OpaqueTokenRecord;
    for (const instance of instances) expect((await keysPing(instance, key.token)).status).toBe(200);
    api.resetCounts();
    api.revoke(key.token);
    const revokedAt = Date.now();
    const refusedAt: Array<number | undefined> = [undefined, undefined, undefined];
    const acceptedAfterRefusal: number[] = [];
    while (refusedAt.some((at) => at === undefined) && Date.now() - revokedAt < ACCEPTED_TTL_MS + 3000) {
      const answers = await Promise.all(instances.map((instance) => keysPing(instance, key.token)));
      answers.forEach((answer, i) => {
        if (answer.status === 401) refusedAt[i] ??= Date.now() - revokedAt;
        else if (refusedAt[i] !== undefined) acceptedAfterRefusal.push(i);
        else expect(answer.status).toBe(200);
      });
      await sleep(200);
    }
    console.log(`[shared store] revoked key refused on the instances after ${refusedAt.map((ms) => `${String(ms)} ms`).join(', ')} (TTL ${ACCEPTED_TTL_MS} ms); ${api.count('api_keys.verify')} verification(s) after the revocation`);
    for (const at of refusedAt) {
      expect(at).toBeDefined();
      expect(at as number).toBeLessThanOrEqual(ACCEPTED_TTL_MS + 500);
    }
    expect(acceptedAfterRefusal).toEqual([]);
    // The refusal is shared in turn: one instance asked, the others read it from Redis.
    expect(api.count('api_keys.verify')).toBe(1);
    for (const instance of instances) expect((await keysPing(instance, key.token)).status).toBe(401);
    expect(api.count('api_keys.verify')).toBe(1);
  });

  it('the same webhook delivered to all three instances is processed once, one after another and all at once', async () => {
    const event = (id: string) => ({ type: 'user.created', data: { id, primary_email_address_id: 'idn_1', email_addresses: [{ id: 'idn_1', email_address: `${id}@example.com` }] } });
    const delivery = await issuer.signWebhook(event('user_hook1'));
    const answers = [];
    for (const instance of instances) answers.push(await deliver(instance, delivery));
    expect(answers).toEqual([
      { status: 200, body: { received: true, duplicate: false } },
      { status: 200, body: { received: true, duplicate: true } },
      { status: 200, body: { received: true, duplicate: true } },
    ]);
    await sleep(100);
    expect(processed('express webhook user.created user_hook1')).toBe(1);

    const together = await issuer.signWebhook(event('user_hook2'));
    const at = await Promise.all(instances.map((instance) => deliver(instance, together)));
    expect(at.filter((a) => a.status === 200 && a.body.duplicate === false)).toHaveLength(1);
    expect(at.filter((a) => a.status === 200 && a.body.duplicate === true)).toHaveLength(2);
    await sleep(100);
    expect(processed('express webhook user.created user_hook2')).toBe(1);
  });

  it('a delivery whose processing fails answers 500 on each instance and is never marked processed; a bad signature is 400 everywhere', async () => {
    // The example's handler reads data.email_addresses: without it, processing throws.
    const broken = await issuer.signWebhook({ type: 'user.created', data: { id: 'user_broken' } });
    expect((await deliver(instances[0] as Instance, broken)).status).toBe(500);
    expect((await deliver(instances[1] as Instance, broken)).status).toBe(500);
    await sleep(100);
    expect(instances.reduce((sum, i) => sum + i.lines.filter((line) => line.startsWith('express webhook user.created failed')).length, 0)).toBe(2);
    const forged = await issuer.signWebhook({ type: 'user.created', data: { id: 'user_forged', email_addresses: [] } });
    for (const instance of instances) {
      const answer = await deliver(instance, { ...forged, body: forged.body.replace('user_forged', 'user_evil') });
      expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_webhook' } });
    }
    expect(processed('express webhook user.created user_evil')).toBe(0);
  });

  it('Redis stopped mid-run: every request gets the right answer from Clerk directly, nothing accepted that should not be; Redis back: sharing resumes', async () => {
    const revoked = issuer.apiKey({ subject: 'user_soon_revoked' });
    for (const instance of instances) expect((await keysPing(instance, revoked.token)).status).toBe(200); // now accepted in Redis
    const event = { type: 'user.created', data: { id: 'user_outage', primary_email_address_id: null, email_addresses: [] } };
    const webhook = await issuer.signWebhook(event);

    await redis.stop();
    await until(async () => (await Promise.all(instances.map(metricsOf))).every((m) => m.storeReady === false), 'every instance to see Redis gone');
    api.revoke(revoked.token);
    api.resetCounts();
    const garbage = `ak_garbage_${Math.random().toString(36).slice(2)}`;
    const requests = instances.flatMap((instance) => [
      // apiKeys[0] was revoked above (and its refusal is no longer in any store).
      ...apiKeys.map((key, i) => async () => ({ want: i === 0 ? 401 : 200, ...(await keysPing(instance, key.token)) })),
      async () => ({ want: 401, ...(await keysPing(instance, revoked.token)) }),
      async () => ({ want: 401, ...(await keysPing(instance, garbage)) }),
    ]);
    const results = await pool(requests, 12);
    expect(results.map((r) => r.status)).toEqual(results.map((r) => r.want));
    // Asked of Clerk directly: one verification per request.
    expect(api.count('api_keys.verify')).toBe(results.length);
    const slowest = Math.max(...results.map((r) => r.ms));
    console.log(`[shared store] Redis down: ${results.length} requests, ${api.count('api_keys.verify')} Backend API verifications, slowest answer ${slowest.toFixed(0)} ms`);
    expect(slowest).toBeLessThan(3000);
    // Webhooks cannot be deduplicated: 503, nothing processed, Clerk retries later.
    for (const instance of instances) expect(await deliver(instance, webhook)).toMatchObject({ status: 503, body: { error: 'store_unavailable' } });
    expect(processed('express webhook user.created user_outage')).toBe(0);

    await redis.start();
    await until(async () => (await Promise.all(instances.map(metricsOf))).every((m) => m.storeReady === true), 'every instance to reconnect');
    await sleep(1100); // past each instance's one-second store back-off
    api.resetCounts();
    const fresh = issuer.apiKey({ subject: 'user_after_outage' });
    const after = await pool(
      Array.from({ length: 30 }, (_, i) => () => keysPing(instances[i % 3] as Instance, fresh.token)),
      10,
    );
    expect(after.map((r) => r.status)).toEqual(Array(30).fill(200));
    expect(api.count('api_keys.verify')).toBe(1);
    // The retried webhook is processed once.
    const retried = await Promise.all(instances.map((instance) => deliver(instance, webhook)));
    expect(retried.filter((a) => a.status === 200 && a.body.duplicate === false)).toHaveLength(1);
    await sleep(100);
    expect(processed('express webhook user.created user_outage')).toBe(1);
  });
});
