import type { APIKey, M2MToken } from '@clerk/backend';
import type { authenticatedMachineObject } from '@clerk/backend/internal';
import { SignedOutReason } from './reasons.js';
import { scopeList } from './scopes.js';
import type { MachineTokenType } from './types.js';

/** What `@clerk/backend` builds from a machine-token verification: `APIKey`, `M2MToken` or `IdPOAuthAccessToken`. @internal */
export type MachineVerificationResult = Parameters<typeof authenticatedMachineObject>[2];
type IdPOAuthAccessToken = Extract<MachineVerificationResult, { clientId: string }>;

/**
 * The outcome of one Backend API verification of an opaque token: Clerk's verification result, or
 * why there is none. `definite` marks an answer about the token itself (unknown, revoked, expired,
 * wrong audience) as opposed to one about the server or the network (unreachable, timed out, 5xx,
 * 429, malformed answer, refused secret key), which says nothing about the token.
 * `retryAfterSeconds` is set when Clerk answered 429 (rate limited): its `Retry-After`.
 *
 * @internal
 */
export type OpaqueVerification = { data: MachineVerificationResult } | { reason: SignedOutReason; definite: boolean; retryAfterSeconds?: number };

/** Where and how `@clerk/backend` asks the Backend API about each opaque kind (`verifyAPIKey`, `verifyM2MToken`, `verifyOAuthToken`). */
const ENDPOINTS: Readonly<Record<MachineTokenType, { path: string; field: string }>> = {
  api_key: { path: '/api_keys/verify', field: 'secret' },
  m2m_token: { path: '/m2m_tokens/verify', field: 'token' },
  oauth_token: { path: '/oauth_applications/access_tokens/verify', field: 'access_token' },
};

/**
 * The Backend API version `@clerk/backend` 3.25 requests these endpoints with (its
 * `SUPPORTED_BAPI_VERSION`, sent as `Clerk-API-Version`; the verify endpoints carry no version in
 * the path). The answers are mapped below as that version shapes them. The SDK does not export the
 * constant; test/core/machine-verification.test.ts checks that our requests equal the SDK's.
 */
const CLERK_API_VERSION = '2026-05-12';

const UNAVAILABLE: OpaqueVerification = { reason: SignedOutReason.ClerkApiUnavailable, definite: false };
const UNKNOWN_TOKEN: OpaqueVerification = { reason: SignedOutReason.TokenInvalid, definite: true };
/** Clerk's rate-limit window is 10 s: a 429 without a usable `Retry-After` waits that long. */
const DEFAULT_RATE_LIMIT_WAIT_SECONDS = 10;
const MAX_RETRY_AFTER_SECONDS = 3600;

/**
 * `Retry-After` (RFC 9110 §10.2.3: delay-seconds or an HTTP date) as whole seconds from now, at least
 * 1 and at most an hour; `undefined` when absent or unreadable.
 *
 * @internal
 */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  let seconds: number;
  if (/^\d+$/.test(text)) seconds = Number(text);
  else {
    // An HTTP date names its day and month (IMF-fixdate, or the obsolete RFC 850 / asctime forms).
    const at = /[A-Za-z]{3}/.test(text) ? Date.parse(text) : Number.NaN;
    if (!Number.isFinite(at)) return undefined;
    seconds = Math.ceil((at - now) / 1000);
  }
  return Math.min(Math.max(seconds, 1), MAX_RETRY_AFTER_SECONDS);
}

/** Options of `verifyOpaqueToken`. @internal */
export interface OpaqueVerificationOptions {
  apiUrl: string;
  secretKey: string | undefined;
  machineSecretKey: string | undefined;
  audience: string | string[] | undefined;
  /** Time limit of the whole call (connect, answer, body); past it the request is aborted. */
  timeoutMs: number;
}

/** The key that authorizes verifying an opaque token of `kind` (M2M tokens prefer the machine secret key, as in `@clerk/backend`). @internal */
export function opaqueVerificationKey(kind: MachineTokenType, options: Pick<OpaqueVerificationOptions, 'secretKey' | 'machineSecretKey'>): string | undefined {
  return kind === 'm2m_token' ? (options.machineSecretKey ?? options.secretKey) : options.secretKey;
}

/**
 * Verifies an opaque machine token (`ak_…`, `mt_…`, `oat_…`) with the Backend API, as
 * `@clerk/backend`'s `verifyMachineAuthToken` does — same method, endpoint, body, headers; same
 * mapping of the answer into `APIKey` / `M2MToken` / `IdPOAuthAccessToken` and of statuses into
 * reasons (401 → `secret-key-invalid`, 404 → `token-invalid`, anything else → unavailable; a 429
 * also carries Clerk's `Retry-After`) — but
 * with our own `fetch` and an `AbortSignal`, so that a timed-out call is cancelled and its
 * connection closed instead of left running (`@clerk/backend` takes neither a fetch nor a signal).
 * Never throws.
 *
 * @internal
 */
export async function verifyOpaqueToken(token: string, kind: MachineTokenType, options: OpaqueVerificationOptions): Promise<OpaqueVerification> {
  const key = opaqueVerificationKey(kind, options);
  if (!key) return { reason: SignedOutReason.SecretKeyRequired, definite: false };
  const endpoint = ENDPOINTS[kind];
  let status: number;
  let body: unknown;
  let retryAfter: string | null = null;
  try {
    const url = new URL(options.apiUrl);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${endpoint.path}`;
    const response = await fetch(url.href, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'clerk-api-version': CLERK_API_VERSION,
        'content-type': 'application/json',
        'user-agent': 'clerk-api-auth',
      },
      body: JSON.stringify({ [endpoint.field]: token }),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    status = response.status;
    retryAfter = response.headers.get('retry-after');
    if (status !== 200) {
      await response.body?.cancel();
    } else {
      body = JSON.parse(await response.text()) as unknown;
    }
  } catch {
    // Unreachable, timed out (the request is aborted with it), or a body that is not JSON.
    return UNAVAILABLE;
  }
  if (status === 401) return { reason: SignedOutReason.SecretKeyInvalid, definite: false };
  if (status === 429) {
    // Rate limited: says nothing about the token; the caller is told to come back when Clerk says.
    return { reason: SignedOutReason.ClerkApiUnavailable, definite: false, retryAfterSeconds: retryAfterSeconds(retryAfter) ?? DEFAULT_RATE_LIMIT_WAIT_SECONDS };
  }
  if (status === 404) return UNKNOWN_TOKEN;
  if (status !== 200 || body === null || typeof body !== 'object' || Array.isArray(body)) return UNAVAILABLE;
  const json = body as Record<string, unknown>;
  if (typeof json.id !== 'string' || typeof json.subject !== 'string') return UNAVAILABLE;
  // An answer that calls the token revoked or expired is a rejection, whatever its status says.
  if (json.revoked === true || json.expired === true) return UNKNOWN_TOKEN;
  const data = toVerificationResult(kind, json);
  if (kind === 'oauth_token' && !oauthAudienceMatches(json.aud, options.audience)) {
    return { reason: SignedOutReason.TokenVerificationFailed, definite: true };
  }
  return { data };
}

/** The fields `APIKey.fromJSON`, `M2MToken.fromJSON` and `IdPOAuthAccessToken.fromJSON` read (the classes are not exported at runtime); scopes always a list of strings. */
function toVerificationResult(kind: MachineTokenType, json: Record<string, unknown>): MachineVerificationResult {
  const common = {
    id: json.id as string,
    subject: json.subject as string,
    scopes: scopeList(json.scopes),
    revoked: false,
    revocationReason: stringOrNull(json.revocation_reason),
    expired: false,
    expiration: numberOrNull(json.expiration),
    createdAt: json.created_at as number,
    updatedAt: json.updated_at as number,
  };
  const claims = json.claims !== null && typeof json.claims === 'object' ? (json.claims as Record<string, unknown>) : null;
  if (kind === 'api_key') {
    const apiKey: APIKey = {
      ...common,
      type: typeof json.type === 'string' ? json.type : 'api_key',
      name: typeof json.name === 'string' ? json.name : '',
      claims,
      createdBy: stringOrNull(json.created_by),
      description: stringOrNull(json.description),
      lastUsedAt: numberOrNull(json.last_used_at),
    };
    return apiKey;
  }
  if (kind === 'm2m_token') {
    const m2m: M2MToken = { ...common, claims };
    return m2m;
  }
  const aud = json.aud === undefined || json.aud === null ? undefined : scopeList(json.aud);
  const oauth: IdPOAuthAccessToken = {
    ...common,
    clientId: typeof json.client_id === 'string' ? json.client_id : '',
    type: typeof json.type === 'string' ? json.type : 'oauth_token',
    ...(aud !== undefined && { aud }),
  };
  return oauth;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * `@clerk/backend`'s OAuth audience rule (`assertOAuthAudienceClaim`): with audiences configured, the
 * token's `aud` must be a non-empty string or a list of non-empty strings naming one of them.
 *
 * @internal
 */
export function oauthAudienceMatches(aud: unknown, audience: string | string[] | undefined): boolean {
  const wanted = [audience ?? []].flat().filter(Boolean);
  if (wanted.length === 0) return true;
  const present = aud ? [aud].flat() : [];
  if (present.length === 0 || !present.every((a) => typeof a === 'string' && a.length > 0)) return false;
  return present.some((a) => wanted.includes(a as string));
}
