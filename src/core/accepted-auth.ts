import {
  getAuthObjectForAcceptedToken,
  invalidTokenAuthObject,
  signedOutAuthObject,
  unauthenticatedMachineObject,
} from '@clerk/backend/internal';
import type { SignedOutReason } from './reasons.js';
import type { AcceptsToken, InvalidTokenAuthObject, MachineTokenType, SignedOutAuthObject, TokenKind, UnauthenticatedMachineObject } from './types.js';


/** A signed-out auth object as Clerk builds it for a call. @internal */
export type SignedOutAuthFor = SignedOutAuthObject | UnauthenticatedMachineObject | InvalidTokenAuthObject;

/**
 * The signed-out auth object Clerk hands a call that accepts `acceptsToken` when the presented token
 * (of kind `presented`; `null` when there was none, which Clerk treats as a session) is not
 * authenticated: @clerk/backend's `getAuthObjectForAcceptedToken` applied to the signed-out object of
 * the presented kind. So:
 * - `'any'` → the signed-out object of the presented kind;
 * - one kind → that kind's signed-out object (`signedOutAuthObject()` for `'session_token'`,
 *   `unauthenticatedMachineObject(kind)` for a machine kind), whatever was presented;
 * - a list → the presented kind's signed-out object when the list holds it, else
 *   `invalidTokenAuthObject()` (`tokenType: null`), never an object of a kind nobody sent.
 *
 * `sessionStatus` keeps a pending session's status on the session object, as Clerk's `toAuth()` does.
 * (`src/core/verify.ts`'s `signedOut` should build its auth object here once it knows the kind.)
 *
 * @internal
 */
export function authObjectFor(acceptsToken: AcceptsToken, presented: TokenKind | null, sessionStatus?: 'pending'): SignedOutAuthFor {
  const kind = presented ?? 'session_token';
  const base = kind === 'session_token' ? signedOutAuthObject(undefined, sessionStatus) : unauthenticatedMachineObject(kind as MachineTokenType);
  if (acceptsToken === 'any') return base;
  // An accepted kind gets `base` back unchanged (a pending session keeps its status).
  return getAuthObjectForAcceptedToken({ authObject: base, acceptsToken: acceptsToken as never }) as SignedOutAuthFor;
}

/**
 * The signed-out result of a call that accepts `acceptsToken`, with Clerk's auth object for it (see
 * `authObjectFor`). A drop-in for `signedOut(reason, acceptsToken)` once the presented kind is known.
 *
 * @internal
 */
export function signedOutFor(
  reason: SignedOutReason,
  acceptsToken: AcceptsToken,
  presented: TokenKind | null,
  sessionStatus?: 'pending',
): { auth: SignedOutAuthFor; reason: SignedOutReason } {
  return { auth: authObjectFor(acceptsToken, presented, sessionStatus), reason };
}
