import { ClerkAuthConfigError } from './errors.js';
import type { AuthRequirement } from './authorization.js';
import type { TokenKind } from './types.js';

const TOKEN_KINDS: ReadonlySet<string> = new Set<TokenKind>(['session_token', 'm2m_token', 'oauth_token', 'api_key']);
const LIST_KEYS = ['role', 'permission', 'feature', 'plan', 'appRole', 'scope'] as const;
const KNOWN_KEYS: ReadonlySet<string> = new Set<keyof AuthRequirement>([...LIST_KEYS, 'token', 'reverification', 'predicate']);

/**
 * Checks a requirement's shape when a guard is defined, so a typo fails loudly at startup instead of
 * guarding nothing: an unknown key (`rol`), an empty role, an unknown token kind, a predicate that is
 * not a function. Throws `ClerkAuthConfigError` naming the fix; returns the requirement otherwise.
 * Every integration calls it for every guard it builds.
 *
 * @param where - How the caller names the requirement in messages, e.g. `authorize(requirement)`.
 *
 * @example
 * ```ts
 * import { validateRequirement } from 'clerk-api-auth';
 * const adminOnly = validateRequirement({ role: 'org:admin' }, 'adminOnly');
 * validateRequirement({ rol: 'org:admin' }, 'adminOnly'); // throws: unknown key "rol"
 * ```
 */
export function validateRequirement(value: unknown, where: string): AuthRequirement {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ClerkAuthConfigError(`${where} must be an object such as { role: 'org:admin' }; got ${describe(value)}.`);
  }
  const requirement = value as Record<string, unknown>;
  for (const key of Object.keys(requirement)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new ClerkAuthConfigError(`${where} has an unknown key ${JSON.stringify(key)}. Use one of: ${[...KNOWN_KEYS].join(', ')}.`);
    }
  }
  for (const key of LIST_KEYS) {
    const wanted = requirement[key];
    if (wanted === undefined) continue;
    const list = typeof wanted === 'string' ? [wanted] : wanted;
    if (!Array.isArray(list) || list.length === 0 || !list.every((item) => typeof item === 'string' && item.trim() !== '')) {
      throw new ClerkAuthConfigError(`${where}.${key} must be a non-empty string or a non-empty list of them; got ${describe(wanted)}.`);
    }
  }
  const token = requirement.token;
  if (token !== undefined && token !== 'any') {
    const list = typeof token === 'string' ? [token] : token;
    if (!Array.isArray(list) || list.length === 0 || !list.every((kind) => typeof kind === 'string' && TOKEN_KINDS.has(kind))) {
      throw new ClerkAuthConfigError(`${where}.token must be 'any', one of ${[...TOKEN_KINDS].join(', ')}, or a non-empty list of them; got ${describe(token)}.`);
    }
  }
  if (requirement.predicate !== undefined && typeof requirement.predicate !== 'function') {
    throw new ClerkAuthConfigError(`${where}.predicate must be a function (auth) => boolean; got ${describe(requirement.predicate)}.`);
  }
  if (requirement.reverification === null) {
    throw new ClerkAuthConfigError(`${where}.reverification must be a preset such as 'strict' or { level, afterMinutes }; got null.`);
  }
  return requirement as AuthRequirement;
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return typeof value;
  }
}
