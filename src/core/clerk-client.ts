import { createClerkClient, type ClerkClient } from '@clerk/backend';
import { ClerkSecretKeyRequiredError } from './errors.js';
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
    return createClerkClient({ ...env, telemetry: { disabled: true, ...env.telemetry } });
  }
  return secretKeyRequiredClient();
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
