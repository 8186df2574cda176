import { createClerkClient, type ClerkClient } from '@clerk/backend';
import { ClerkApiUnavailableError, ClerkSecretKeyRequiredError } from './errors.js';
import type { ResolvedOptions } from './options.js';

/**
 * The Backend API client for one options set: the user's own, one built from the options, or — in
 * networkless mode — a stand-in whose every use throws `ClerkSecretKeyRequiredError` instead of
 * sending a request with an empty key. `then`, `toJSON` and symbols stay undefined so awaiting,
 * serializing or inspecting a context that holds it never throws.
 *
 * @internal
 */
export function buildClerkClient(options: ResolvedOptions): ClerkClient {
  if (options.clerkClient) return options.clerkClient;
  if (options.secretKey) {
    const env = options.clientOptions;
    return withTimeout(createClerkClient({ ...env, telemetry: { disabled: true, ...env.telemetry } }), options.apiTimeoutMs);
  }
  return secretKeyRequiredClient();
}

/**
 * Bounds every Backend API call made through the client (`clerk.users.getUser(…)`, …) by `ms`:
 * past it the call rejects with `ClerkApiUnavailableError` (503) instead of holding the request.
 * Methods run with their own object as `this`, so the SDK's private state keeps working.
 *
 * This bounds the caller's wait only. `@clerk/backend` (3.25) sends every request with its internal
 * `runtime.fetch` and passes no `AbortSignal`; `createClerkClient` accepts neither a `fetch` nor a
 * signal, and `buildRequest`, `createBackendApiClient` and the resources' `fromJSON` are not
 * exported, so no public hook can cancel the SDK's request: it runs until the API answers or the
 * runtime's own socket timeouts end it (test/core/timeouts.test.ts pins this down). The core's own
 * verification calls (JWKS, opaque machine tokens) use our `fetch` and are aborted at `ms`.
 */
function withTimeout<T extends object>(client: T, ms: number): T {
  const wrapped = new WeakMap<object, object>();
  const wrap = <O extends object>(target: O): O => {
    const known = wrapped.get(target);
    if (known) return known as O;
    const proxy = new Proxy(target, {
      get(object, property) {
        const value: unknown = Reflect.get(object, property, object);
        if (typeof value === 'function') {
          return (...args: unknown[]) => {
            const result: unknown = Reflect.apply(value, object, args);
            return result instanceof Promise ? bounded(result, ms) : result;
          };
        }
        return value !== null && typeof value === 'object' && !(value instanceof Promise) ? wrap(value) : value;
      },
    });
    wrapped.set(target, proxy);
    return proxy;
  };
  return wrap(client);
}

function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ClerkApiUnavailableError()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A stand-in Backend API client whose every use throws `ClerkSecretKeyRequiredError` naming
 * `ctx.clerk.<property>` and `hint`.
 *
 * @internal
 */
export function secretKeyRequiredClient(hint = ''): ClerkClient {
  return new Proxy({} as ClerkClient, {
    get(_target, property) {
      if (typeof property === 'symbol' || property === 'then' || property === 'toJSON' || property === 'constructor') return undefined;
      throw new ClerkSecretKeyRequiredError(`ctx.clerk.${String(property)}${hint}`);
    },
    has: () => false,
  });
}
