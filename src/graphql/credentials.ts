import { SignedOutReason } from '../core/reasons.js';
import type { AuthenticateInput } from '../core/types.js';

/** Where a GraphQL request's credential is: something `authenticate` reads, or a reason to refuse it. @internal */
export type CredentialSource = { input: AuthenticateInput } | { reason: SignedOutReason };

const NONE: CredentialSource = { input: null };

/**
 * Finds the credential of a GraphQL request from whatever the server hands over:
 * - a web `Request` or a Node request (read as is: `Authorization: Bearer`, else a same-origin
 *   `__session` cookie), or a bare token string;
 * - a GraphQL Yoga context (`request`), an Apollo / Express-style context (`req`);
 * - a graphql-ws context: `connectionParams.authorization` / `connectionParams.Authorization`
 *   (`"Bearer <token>"` or the bare token), `connectionParams.token`, or
 *   `connectionParams.headers.authorization`; with none of those, the WebSocket upgrade request
 *   (`extra.request` or `req`). Two different tokens are refused, as two Authorization headers are.
 *
 * @internal
 */
export function credentialSource(value: unknown): CredentialSource {
  if (value === null || value === undefined) return NONE;
  if (typeof value === 'string') return { input: value };
  if (typeof value !== 'object') return NONE;
  if (isRequestLike(value)) return { input: value };
  const context = value as Record<string, unknown>;
  if ('connectionParams' in context) {
    const fromParams = fromConnectionParams(context.connectionParams);
    if (fromParams !== null) return fromParams;
    const extra = context.extra as Record<string, unknown> | undefined;
    return requestIn(extra?.request) ?? requestIn(context.req) ?? requestIn(context.request) ?? NONE;
  }
  return requestIn(context.request) ?? requestIn(context.req) ?? NONE;
}

function requestIn(value: unknown): CredentialSource | null {
  return typeof value === 'object' && value !== null && isRequestLike(value) ? { input: value } : null;
}

function isRequestLike(value: object): value is Exclude<AuthenticateInput, string | null | undefined> {
  const headers = (value as { headers?: unknown }).headers;
  return typeof headers === 'object' && headers !== null;
}

function fromConnectionParams(params: unknown): CredentialSource | null {
  if (typeof params !== 'object' || params === null) return null;
  const found: unknown[] = [];
  collect(params as Record<string, unknown>, found, true);
  if (found.length === 0) return null;
  const tokens = new Set<string>();
  for (const value of found) {
    if (typeof value !== 'string') return { reason: SignedOutReason.MalformedAuthorizationHeader };
    tokens.add(value.trim().replace(/^bearer +/i, ''));
  }
  if (tokens.size > 1) return { reason: SignedOutReason.MultipleAuthorizationHeaders };
  return { input: found[0] as string };
}

function collect(params: Record<string, unknown>, found: unknown[], top: boolean): void {
  for (const key of Object.keys(params)) {
    const name = key.toLowerCase();
    if (name === 'authorization' || (top && name === 'token')) {
      if (params[key] !== undefined && params[key] !== null) found.push(params[key]);
    } else if (top && name === 'headers' && typeof params[key] === 'object' && params[key] !== null) {
      collect(params[key] as Record<string, unknown>, found, false);
    }
  }
}
