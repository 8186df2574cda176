import { validateReverificationConfig } from '@clerk/shared/authorization';
import { ClerkAuthConfigError } from './errors.js';
import type { AuthRequirement } from './authorization.js';
import type { TokenKind } from './types.js';

const TOKEN_KINDS: ReadonlySet<string> = new Set<TokenKind>(['session_token', 'm2m_token', 'oauth_token', 'api_key']);
const LIST_KEYS = ['role', 'permission', 'feature', 'plan', 'appRole', 'scope'] as const;
const KNOWN_KEYS: ReadonlySet<string> = new Set<keyof AuthRequirement>([...LIST_KEYS, 'token', 'reverification', 'organization', 'predicate']);
/** The token kinds that can carry an active organization (a session's `orgId`, an organization's API key). */
const ORGANIZATION_KINDS: ReadonlySet<string> = new Set<TokenKind>(['session_token', 'api_key']);

/**
 * Checks a requirement's shape when a guard is defined, so a typo fails loudly at startup instead of
 * guarding nothing: an unknown key (`rol`), an empty role, an unknown token kind, a predicate that is
 * not a function, an `organization` other than `true`, or one that no accepted token kind can meet
 * (an M2M token never has an organization). Throws `ClerkAuthConfigError` naming the fix; returns the requirement otherwise.
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
      const close = closest(key);
      throw new ClerkAuthConfigError(
        `${where} has an unknown key ${JSON.stringify(key)}.${close === undefined ? '' : ` Did you mean ${JSON.stringify(close)}?`} Use one of: ${[...KNOWN_KEYS].join(', ')}.`,
      );
    }
  }
  for (const key of LIST_KEYS) {
    const wanted = requirement[key];
    if (wanted === undefined) continue;
    const list = typeof wanted === 'string' ? [wanted] : wanted;
    if (!Array.isArray(list) || list.length === 0 || !list.every((item) => typeof item === 'string' && item.trim() !== '')) {
      throw new ClerkAuthConfigError(`\`${key}\` in ${where} must be a non-empty string or a non-empty list of them (any one grants access); got ${describe(wanted)}.`);
    }
  }
  const token = requirement.token;
  if (token !== undefined && token !== 'any') {
    const list = typeof token === 'string' ? [token] : token;
    if (!Array.isArray(list) || list.length === 0 || !list.every((kind) => typeof kind === 'string' && TOKEN_KINDS.has(kind))) {
      throw new ClerkAuthConfigError(`\`token\` in ${where} must be 'any', one of ${[...TOKEN_KINDS].join(', ')}, or a non-empty list of them; got ${describe(token)}.`);
    }
  }
  if (requirement.organization !== undefined) {
    if (requirement.organization !== true) {
      throw new ClerkAuthConfigError(
        `\`organization\` in ${where} must be \`true\` (an active organization is required); got ${describe(requirement.organization)}. Leave it out to allow personal accounts.`,
      );
    }
    const kinds = token === undefined ? ['session_token'] : token === 'any' ? [...ORGANIZATION_KINDS] : typeof token === 'string' ? [token] : (token as string[]);
    if (!kinds.some((kind) => ORGANIZATION_KINDS.has(kind))) {
      throw new ClerkAuthConfigError(
        `\`organization: true\` in ${where} can never hold: none of its token kinds (${kinds.join(', ')}) carries an organization. ` +
          'Only a session token (with an active organization) or an API key owned by an organization does.',
      );
    }
  }
  if (requirement.predicate !== undefined && typeof requirement.predicate !== 'function') {
    throw new ClerkAuthConfigError(`\`predicate\` in ${where} must be a function (auth) => boolean; got ${describe(requirement.predicate)}.`);
  }
  // Clerk's own check of a reverification setting (what `has({ reverification })` accepts).
  if (requirement.reverification !== undefined && validateReverificationConfig(requirement.reverification as never) === false) {
    throw new ClerkAuthConfigError(
      `\`reverification\` in ${where} must be one of ${REVERIFICATION_PRESETS} or ` +
        `{ level: 'first_factor' | 'second_factor' | 'multi_factor', afterMinutes: <a positive number> }; got ${describe(requirement.reverification)}.`,
    );
  }
  return requirement as AuthRequirement;
}

const REVERIFICATION_PRESETS = "'strict_mfa', 'strict', 'moderate', 'lax'";

/** The known key within two edits of a mistyped one (`rol` → `role`), if any. */
function closest(key: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const known of KNOWN_KEYS) {
    const distance = editDistance(key.toLowerCase(), known.toLowerCase());
    if (distance < bestDistance) {
      best = known;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
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
