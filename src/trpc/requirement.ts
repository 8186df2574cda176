import type { AcceptsToken, AuthenticatedMachineObject, MachineTokenType, SignedInAuthObject } from '../core/internal.js';

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
