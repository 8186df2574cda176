import { createClient } from 'redis';
import { ClerkAuthConfigError, type ClerkAuthStore } from '../core/internal.js';

/**
 * The part of a node-redis client (`redis` 5 or 6, `createClient()`) the store uses. Any connected
 * node-redis client fits; the store never connects, closes or listens to a client it was given.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import type { RedisStoreClient } from 'clerk-api-auth/redis';
 *
 * const client: RedisStoreClient = await createClient({ url: 'redis://127.0.0.1:6379' }).connect();
 * ```
 */
export interface RedisStoreClient {
  /** Whether the client is connected and ready; commands are not sent while it is not. */
  readonly isReady: boolean;
  get(key: string): Promise<unknown>;
  set(key: string, value: string, options: { expiration: { type: 'PX'; value: number }; condition?: 'NX' }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/**
 * Options of `createRedisStore`: a Redis URL (the store makes, connects and owns its client) or a
 * node-redis client of yours.
 *
 * @example
 * ```ts
 * const byUrl: RedisStoreOptions = { url: 'redis://127.0.0.1:6379', prefix: 'my-app:' };
 * ```
 */
export type RedisStoreOptions = (
  | {
      /** `redis://[[user]:password@]host[:port][/db]` or `rediss://…` (TLS), e.g. `REDIS_URL`. Works with Redis 7+ and Valkey. */
      url: string;
      client?: never;
    }
  | {
      /** A node-redis client you connect (and close) yourself. */
      client: RedisStoreClient;
      url?: never;
    }
) & {
  /** Prefix of every key the store writes. Default `clerk-api-auth:`. Give apps sharing one Redis different prefixes if you like; keys never collide across Clerk instances anyway (they are keyed by the secret). */
  prefix?: string;
  /**
   * With `url`: the longest a command may take before the client gives up on it, in ms (the package
   * bounds every store call on its own side too). Default 1000.
   */
  commandTimeoutMs?: number;
  /**
   * With `url`: called with each connection error of the client (never with a secret). Default: one
   * warning when Redis becomes unavailable and one when it is back.
   */
  onError?: (error: Error) => void;
};

/**
 * A `ClerkAuthStore` in Redis, and its connection.
 *
 * @example
 * ```ts
 * const store: RedisStore = createRedisStore({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
 * console.log(store.ready);
 * await store.close();
 * ```
 */
export interface RedisStore extends ClerkAuthStore {
  /** Whether the client is connected. While it is not, every call fails at once (the package then asks Clerk directly). */
  readonly ready: boolean;
  /** Closes the client the store made from `url` (a client you gave is left alone). */
  close(): Promise<void>;
}

/** Deletes KEYS[1] only if it holds ARGV[1]: one atomic step, on Redis 7 and Valkey (no DELEX, which needs Redis 8.4). */
const DELETE_IF_EQUALS = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
const decoder = new TextDecoder();

class RedisNotReadyError extends Error {
  constructor() {
    super('The Redis client is not connected.');
    this.name = 'RedisNotReadyError';
  }
}

function text(reply: unknown): string | undefined {
  if (typeof reply === 'string') return reply;
  if (reply instanceof Uint8Array) return decoder.decode(reply);
  return undefined;
}

function ttl(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}

/**
 * A `ClerkAuthStore` in Redis (7 or later) or Valkey, on node-redis (`redis`, an optional peer
 * dependency: install it only if you use this). Give every instance of your app the same Redis and
 * they share opaque machine-token verifications (`createClerkAuth({ store })`) and webhook
 * idempotency (`clerkWebhooks({ store })` from `clerk-api-auth/webhooks`).
 *
 * With `url`, the store makes its own client: connecting in the background (a Redis that is not
 * there yet is not an error), reconnecting with backoff, never queueing commands while disconnected
 * (a call fails at once and the request is verified with Clerk directly), and warning once per
 * outage. What is stored is only keyed hashes and sealed verification results: no token in clear.
 *
 * @example
 * ```ts
 * import { createClerkAuth } from 'clerk-api-auth';
 * import { createRedisStore } from 'clerk-api-auth/redis';
 *
 * const store = createRedisStore({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
 * export const clerkAuth = createClerkAuth({ store });
 * // On shutdown:
 * // await store.close();
 * ```
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  if (options === null || typeof options !== 'object') throw new ClerkAuthConfigError('createRedisStore takes { url } or { client }.');
  const prefix = options.prefix ?? 'clerk-api-auth:';
  if (typeof prefix !== 'string') throw new ClerkAuthConfigError('`prefix` of createRedisStore must be a string.');
  const commandTimeoutMs = options.commandTimeoutMs ?? 1000;
  if (typeof commandTimeoutMs !== 'number' || !Number.isFinite(commandTimeoutMs) || commandTimeoutMs <= 0) {
    throw new ClerkAuthConfigError(`\`commandTimeoutMs\` of createRedisStore must be a positive number of milliseconds; got ${String(commandTimeoutMs)}.`);
  }
  let client: RedisStoreClient;
  let close: () => Promise<void>;
  if (options.client !== undefined) {
    if (options.url !== undefined) throw new ClerkAuthConfigError('createRedisStore takes either `url` or `client`, not both.');
    const given = options.client;
    if (given === null || typeof given !== 'object' || typeof given.get !== 'function' || typeof given.set !== 'function' || typeof given.eval !== 'function') {
      throw new ClerkAuthConfigError('`client` of createRedisStore must be a node-redis client (createClient() from `redis`).');
    }
    client = given;
    close = async () => {};
  } else {
    const url = options.url;
    if (typeof url !== 'string' || !/^rediss?:\/\/./.test(url.trim())) {
      // Never echo the URL: it may carry a password.
      throw new ClerkAuthConfigError('`url` of createRedisStore must be a redis:// or rediss:// URL, e.g. REDIS_URL=redis://127.0.0.1:6379.');
    }
    const own = createClient({
      url: url.trim(),
      disableOfflineQueue: true,
      commandOptions: { timeout: commandTimeoutMs },
      socket: {
        connectTimeout: Math.max(commandTimeoutMs, 1000),
        // Reconnect quickly, then every 2 s at most, for ever: the store comes back by itself.
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
      },
    });
    let down = false;
    const report =
      options.onError ??
      ((error: Error) => {
        if (down) return;
        down = true;
        const detail = (error as { code?: unknown }).code ?? error.name;
        console.warn(`clerk-api-auth/redis: Redis is unavailable (${String(detail)}); machine tokens are verified with Clerk directly until it is back.`);
      });
    own.on('error', (error: Error) => report(error));
    own.on('ready', () => {
      if (down && options.onError === undefined) console.warn('clerk-api-auth/redis: Redis is back; verifications are shared again.');
      down = false;
    });
    own.connect().catch(() => {
      // Closed before it ever connected; nothing to do.
    });
    client = own as unknown as RedisStoreClient;
    close = async () => {
      if (own.isReady) await own.close();
      else own.destroy();
    };
  }

  const ready = () => {
    if (!client.isReady) throw new RedisNotReadyError();
  };
  return {
    get ready() {
      return client.isReady;
    },
    async get(key) {
      ready();
      return text(await client.get(prefix + key));
    },
    async set(key, value, ttlMs) {
      ready();
      await client.set(prefix + key, value, { expiration: { type: 'PX', value: ttl(ttlMs) } });
    },
    async setIfAbsent(key, value, ttlMs) {
      ready();
      return (await client.set(prefix + key, value, { expiration: { type: 'PX', value: ttl(ttlMs) }, condition: 'NX' })) !== null;
    },
    async deleteIfEquals(key, value) {
      ready();
      return Number(await client.eval(DELETE_IF_EQUALS, { keys: [prefix + key], arguments: [value] })) === 1;
    },
    close,
  };
}
