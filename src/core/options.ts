import type { ClerkClient } from '@clerk/backend';
import { ClerkAuthConfigError } from './errors.js';
import { parseJwtKey, type RsaPublicJwk } from './jwt-key.js';
import { validateStore, type ClerkAuthStore } from './store.js';
import type { TokenCacheOptions } from './token-cache.js';
import type { AcceptsToken, ClerkAuthOptions, TokenKind } from './types.js';

/** `machineTokens` with defaults applied. @internal */
export interface MachineTokenBounds {
  acceptedTtlMs: number;
  rejectedTtlMs: number;
  rejectedMaxEntries: number;
  maxConcurrentVerifications: number;
  maxQueuedVerifications: number;
  storeTimeoutMs: number;
  sharedWaitMs: number;
}

const MACHINE_TOKEN_DEFAULTS: MachineTokenBounds = {
  acceptedTtlMs: 10_000,
  rejectedTtlMs: 10_000,
  rejectedMaxEntries: 10_000,
  maxConcurrentVerifications: 10,
  maxQueuedVerifications: 1000,
  storeTimeoutMs: 200,
  sharedWaitMs: 1000,
};
/** What `0` means for each field; `null`: 0 is not allowed (the value must be positive). */
const MACHINE_TOKEN_ZERO: Readonly<Record<keyof MachineTokenBounds, string | null>> = {
  acceptedTtlMs: 'ask Clerk about every accepted token every time',
  rejectedTtlMs: 'never remember a rejection',
  rejectedMaxEntries: 'remember none',
  maxConcurrentVerifications: 'no cap',
  maxQueuedVerifications: 'none wait',
  storeTimeoutMs: null,
  sharedWaitMs: 'never wait for another instance',
};
/** Counts (whole numbers); every other field is a number of milliseconds. */
const MACHINE_TOKEN_COUNTS: ReadonlySet<keyof MachineTokenBounds> = new Set(['rejectedMaxEntries', 'maxConcurrentVerifications', 'maxQueuedVerifications']);

/** Options after environment fallbacks and validation. @internal */
export interface ResolvedOptions {
  secretKey: string | undefined;
  machineSecretKey: string | undefined;
  publishableKey: string | undefined;
  jwtKey: RsaPublicJwk | undefined;
  apiUrl: string;
  apiVersion: string;
  authorizedParties: string[] | undefined;
  audience: string | string[] | undefined;
  issuer: string | string[] | undefined;
  clockSkewInMs: number;
  acceptsToken: AcceptsToken;
  maxTokenLength: number;
  apiTimeoutMs: number;
  appRoleClaim: readonly string[];
  clerkClient: ClerkClient | undefined;
  cache: false | TokenCacheOptions;
  machineTokens: MachineTokenBounds;
  /** The store given (`store`); `undefined`: the verifier makes its own in-memory one. */
  store: ClerkAuthStore | undefined;
  /** Every option as given plus env fallbacks, for `createClerkClient`. */
  clientOptions: ClerkAuthOptions;
}

const TOKEN_KINDS: ReadonlySet<string> = new Set<TokenKind>(['session_token', 'm2m_token', 'oauth_token', 'api_key']);
const OUR_OPTIONS = ['cache', 'machineTokens', 'store', 'clerkClient', 'maxTokenLength', 'apiTimeoutMs', 'appRoleClaim', 'env', 'acceptsToken', 'authorizedParties', 'machineSecretKey', 'issuer', 'clockSkewInMs'] as const;

function defaultEnv(): Readonly<Record<string, string | undefined>> {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env ?? {};
}

/**
 * Merges explicit options with environment fallbacks (explicit wins), once, and validates them.
 * Throws `ClerkAuthConfigError` naming the fix.
 *
 * @internal
 */
export function resolveOptions(options: ClerkAuthOptions = {}): ResolvedOptions {
  const env = options.env ?? defaultEnv();
  const pick = (value: string | undefined, name: string): string | undefined => {
    const chosen = value ?? env[name];
    return chosen === undefined || chosen.trim() === '' ? undefined : chosen.trim();
  };

  const secretKey = pick(options.secretKey, 'CLERK_SECRET_KEY');
  const jwtKeyPem = pick(options.jwtKey, 'CLERK_JWT_KEY');
  const publishableKey = pick(options.publishableKey, 'CLERK_PUBLISHABLE_KEY');
  const machineSecretKey = pick(options.machineSecretKey, 'CLERK_MACHINE_SECRET_KEY');
  const apiUrl = pick(options.apiUrl, 'CLERK_API_URL') ?? 'https://api.clerk.com';
  const apiVersion = pick(options.apiVersion, 'CLERK_API_VERSION') ?? 'v1';
  const partiesRaw = options.authorizedParties ?? splitList(env.CLERK_AUTHORIZED_PARTIES);

  if (!secretKey && !jwtKeyPem) {
    throw new ClerkAuthConfigError(
      'No Clerk key configured. Set CLERK_SECRET_KEY (verification via the Backend API JWKS, plus ctx.clerk) ' +
        'or CLERK_JWT_KEY (networkless verification), or pass `secretKey` / `jwtKey` to createClerkAuth.',
    );
  }
  if (secretKey && !/^sk_(test|live)_/.test(secretKey)) {
    throw new ClerkAuthConfigError(
      secretKey.startsWith('pk_')
        ? 'The secret key is a publishable key (pk_…). Set CLERK_SECRET_KEY to the secret key (sk_test_… or sk_live_…) from the Clerk Dashboard → API keys.'
        : 'The secret key does not look like a Clerk secret key. Set CLERK_SECRET_KEY to the sk_test_… or sk_live_… value from the Clerk Dashboard → API keys.',
    );
  }
  if (publishableKey && !/^pk_(test|live)_/.test(publishableKey)) {
    throw new ClerkAuthConfigError(
      'The publishable key does not look like a Clerk publishable key. Set CLERK_PUBLISHABLE_KEY to the pk_test_… or pk_live_… value, or unset it (bearer tokens do not need it).',
    );
  }
  const jwtKey = jwtKeyPem ? parseJwtKey(jwtKeyPem) : undefined;

  try {
    const url = new URL(apiUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error();
  } catch {
    throw new ClerkAuthConfigError(`CLERK_API_URL must be an http(s) URL such as https://api.clerk.com; got ${JSON.stringify(apiUrl)}.`);
  }

  const authorizedParties = partiesRaw && partiesRaw.length > 0 ? partiesRaw.map(validateParty) : undefined;
  const clockSkewInMs = nonNegative(options.clockSkewInMs, 5000, 'clockSkewInMs');
  const maxTokenLength = nonNegative(options.maxTokenLength, 16_384, 'maxTokenLength');
  const apiTimeoutMs = nonNegative(options.apiTimeoutMs, 5000, 'apiTimeoutMs');
  const acceptsToken = validateAcceptsToken(options.acceptsToken ?? 'session_token');
  const appRoleClaim = (options.appRoleClaim ?? 'metadata.role').split('.').filter(Boolean);
  if (appRoleClaim.length === 0) throw new ClerkAuthConfigError('`appRoleClaim` must be a dot path such as "metadata.role".');

  const cache = options.cache ?? {};
  if (cache !== false) {
    if (typeof cache !== 'object' || cache === null) throw new ClerkAuthConfigError('`cache` must be false or { maxEntries?, maxBytes? }.');
    nonNegative(cache.maxEntries, 0, 'cache.maxEntries');
    nonNegative(cache.maxBytes, 0, 'cache.maxBytes');
  }

  const machineTokens = resolveMachineTokens(options.machineTokens);
  const store = options.store === undefined ? undefined : validateStore(options.store, 'store');
  if (store !== undefined && options.machineTokens?.rejectedMaxEntries !== undefined) {
    throw new ClerkAuthConfigError(
      '`machineTokens.rejectedMaxEntries` bounds the default in-memory store, which is not used when `store` is given: bound your store instead (e.g. createMemoryStore({ maxEntries })), and drop `rejectedMaxEntries`.',
    );
  }

  const clientOptions: ClerkAuthOptions = { ...options };
  for (const key of OUR_OPTIONS) delete clientOptions[key];
  Object.assign(clientOptions, { secretKey, publishableKey, apiUrl, apiVersion, jwtKey: jwtKeyPem, machineSecretKey });

  return {
    secretKey,
    machineSecretKey,
    publishableKey,
    jwtKey,
    apiUrl,
    apiVersion,
    authorizedParties,
    audience: options.audience,
    issuer: options.issuer,
    clockSkewInMs,
    acceptsToken,
    maxTokenLength,
    apiTimeoutMs,
    appRoleClaim,
    clerkClient: options.clerkClient,
    cache,
    machineTokens,
    store,
    clientOptions,
  };
}

function resolveMachineTokens(value: ClerkAuthOptions['machineTokens']): MachineTokenBounds {
  if (value === undefined) return MACHINE_TOKEN_DEFAULTS;
  const shape = `\`machineTokens\` must be an object { ${Object.keys(MACHINE_TOKEN_DEFAULTS).map((key) => `${key}?`).join(', ')} }`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ClerkAuthConfigError(`${shape}; got ${JSON.stringify(value)}.`);
  const known = Object.keys(MACHINE_TOKEN_DEFAULTS);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new ClerkAuthConfigError(`${shape}; "${key}" is not one of them.`);
  }
  const bounds = { ...MACHINE_TOKEN_DEFAULTS };
  for (const key of known as Array<keyof MachineTokenBounds>) {
    const given = value[key];
    if (given === undefined) continue;
    const integer = MACHINE_TOKEN_COUNTS.has(key);
    const zero = MACHINE_TOKEN_ZERO[key];
    if (typeof given !== 'number' || !Number.isFinite(given) || given < 0 || (zero === null && given === 0) || (integer && !Number.isInteger(given))) {
      throw new ClerkAuthConfigError(
        `\`machineTokens.${key}\` must be a ${zero === null ? 'positive' : 'non-negative'} finite ${integer ? 'whole number' : 'number of milliseconds'}${zero === null ? '' : ` (0: ${zero})`}; got ${String(given)}.`,
      );
    }
    bounds[key] = given;
  }
  return bounds;
}

function splitList(value: string | undefined): string[] | undefined {
  if (!value) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  return items.length > 0 ? items : undefined;
}

function validateParty(party: string): string {
  let origin: string | undefined;
  try {
    origin = new URL(party).origin;
  } catch {
    origin = undefined;
  }
  if (origin === undefined || origin === 'null' || origin !== party) {
    throw new ClerkAuthConfigError(
      `Authorized party ${JSON.stringify(party)} is not an origin. Use scheme://host[:port] with no path or trailing slash, e.g. "https://app.example.com" (CLERK_AUTHORIZED_PARTIES is comma-separated).`,
    );
  }
  return party;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ClerkAuthConfigError(`\`${name}\` must be a non-negative finite number of milliseconds or characters; got ${String(value)}.`);
  }
  return value;
}

function validateAcceptsToken(value: AcceptsToken): AcceptsToken {
  if (value === 'any') return value;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((kind) => TOKEN_KINDS.has(kind))) {
    throw new ClerkAuthConfigError(
      `\`acceptsToken\` must be 'any', one of ${[...TOKEN_KINDS].join(', ')}, or a non-empty list of them; got ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

/** Whether a token kind is accepted. @internal */
export function accepts(acceptsToken: AcceptsToken, kind: TokenKind): boolean {
  if (acceptsToken === 'any') return true;
  if (typeof acceptsToken === 'string') return acceptsToken === kind;
  return acceptsToken.includes(kind);
}
