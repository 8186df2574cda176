export { createClerkAuth } from './create-clerk-auth.js';
export type { ClerkAuth, ClerkAuthConfig } from './create-clerk-auth.js';
export { checkRequirement } from './authorization.js';
export { validateRequirement } from './requirement.js';
export type { AuthCheck, AuthRequirement, OrganizationPermission, OrganizationRole, ReverificationRequirement } from './authorization.js';
export {
  ClerkAuthError,
  ClerkAuthConfigError,
  ClerkApiUnavailableError,
  ClerkSecretKeyRequiredError,
  ForbiddenError,
  InvalidRequestError,
  PaymentRequiredError,
  UnauthenticatedError,
  isClerkAuthError,
} from './errors.js';
export type { MissingEntitlements, ReverificationHint } from './errors.js';
export { challengeOf } from './challenge.js';
export type { Challenge, DenialError } from './challenge.js';
export type { ClerkAuthSource } from './resolve-clerk-auth.js';
export type { ClerkAuthErrorCode } from './errors.js';
export type { TokenCacheOptions } from './token-cache.js';
export type { ClerkAuthStore } from './store.js';
export { createMemoryStore } from './memory-store.js';
export type { MemoryStoreOptions } from './memory-store.js';
export type { MachineTokenMetrics } from './metrics.js';
export { SignedOutReason, isCredentialRejected } from './reasons.js';
export type {
  AcceptsToken,
  AuthenticateInput,
  AuthenticateOptions,
  AuthenticateResult,
  ConnectionInput,
  AuthenticatedMachineObject,
  ClerkAuthObject,
  InvalidTokenAuthObject,
  ClerkAuthOptions,
  ClerkClient,
  MachineTokenType,
  NodeLikeRequest,
  SignedInAuthObject,
  SignedOutAuthObject,
  TokenKind,
  UnauthenticatedMachineObject,
} from './types.js';
