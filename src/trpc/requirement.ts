import type { AcceptsToken, AuthenticatedMachineObject, AuthRequirement, MachineTokenType, SignedInAuthObject } from '../core/internal.js';

/**
 * The auth object a guard guarantees for the token kinds it accepts: a session for
 * `'session_token'` (the default), the machine object of that kind for a machine kind, the union
 * for a list, and any authenticated object for `'any'`.
 *
 * @example
 * ```ts
 * type A = AuthForToken<undefined>;          // SignedInAuthObject
 * type B = AuthForToken<'m2m_token'>;        // AuthenticatedMachineObject<'m2m_token'> (machineId, scopes, …)
 * type C = AuthForToken<readonly ['session_token', 'api_key']>;
 * ```
 */
export type AuthForToken<TToken extends AcceptsToken | undefined> = TToken extends undefined
  ? SignedInAuthObject
  : TToken extends 'any'
    ? SignedInAuthObject | AuthenticatedMachineObject
    : TToken extends readonly (infer K)[]
      ? AuthOfKind<K>
      : AuthOfKind<TToken>;

type AuthOfKind<K> = K extends 'session_token' ? SignedInAuthObject : K extends MachineTokenType ? AuthenticatedMachineObject<K> : never;

/**
 * An auth object with an active organization, as `organization: true` guarantees: each member of
 * the union that can have one, with `orgId: string` (a session's active organization, or the
 * organization owning an API key); members that never have one (M2M and OAuth tokens, an API key
 * of a user) drop out.
 *
 * @example
 * ```ts
 * type A = WithActiveOrganization<SignedInAuthObject>; // SignedInAuthObject & { orgId: string }
 * ```
 */
export type WithActiveOrganization<TAuth> = TAuth extends { orgId: infer O } ? ([Extract<O, string>] extends [never] ? never : TAuth & { orgId: string }) : never;

/**
 * The auth object a requirement guarantees: `AuthForToken` of its `token`, narrowed by
 * `WithActiveOrganization` under `organization: true`.
 *
 * @example
 * ```ts
 * type A = AuthForRequirement<{ organization: true }>; // SignedInAuthObject & { orgId: string }
 * type B = AuthForRequirement<{ token: 'api_key' }>;   // AuthenticatedMachineObject<'api_key'>
 * ```
 */
export type AuthForRequirement<TRequirement extends AuthRequirement> = TRequirement extends { organization: true }
  ? WithActiveOrganization<AuthForToken<TokenOf<TRequirement>>>
  : AuthForToken<TokenOf<TRequirement>>;

type TokenOf<R> = R extends { token: infer K extends AcceptsToken } ? K : undefined;
