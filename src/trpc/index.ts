/**
 * clerk-api-auth/trpc: Clerk authentication for tRPC v11.
 *
 * - `createClerkContext` — `createContext` for every adapter (fetch, standalone, Express, Next.js, Fastify,
 *   AWS Lambda, WebSocket);
 * - `clerkProcedures(t)` — `publicProcedure`, `protectedProcedure`, `machineProcedure`, `authorize(requirement)`,
 *   and `.meta({ auth })` on those builders (requirements add up; checked at startup), with `ctx.auth` narrowed
 *   by what each guard admits;
 * - `clerkContextFromToken` / `clerkContextFromAuth` — contexts for `createCaller` (tests, server-side calls);
 * - `clerkResponseMeta` — the headers of a denial on AWS Lambda (no response object), and the real HTTP status
 *   for subscriptions refused by a guard, for non-EventSource clients;
 * - `admittedAuth` — who the request's guards admitted (a user or a machine), for access logs;
 * - `clerkErrorFormatter` — Clerk's reverification hint (`data.clerk_error`) and missing billing entitlements
 *   (`data.missing`) in the error's `data`, for `useReverification` and upgrade prompts.
 *
 * @example
 * ```ts
 * import { initTRPC } from '@trpc/server';
 * import { clerkProcedures, createClerkContext, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';
 *
 * export const createContext = createClerkContext();
 * const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create();
 * export const { protectedProcedure, authorize } = clerkProcedures(t);
 * const adminProcedure = protectedProcedure.use(authorize({ role: 'org:admin' }));
 * ```
 *
 * @packageDocumentation
 */
export { createClerkContext } from './context.js';
export type {
  ClerkContext,
  ClerkContextAdapterOptions,
  ClerkContextFactory,
  ClerkContextOptions,
  ClerkLambdaAdapterOptions,
  ClerkLambdaEvent,
  ClerkRequestAdapterOptions,
  ClerkRequestInfo,
} from './context.js';
export { clerkContextFromAuth, clerkContextFromToken } from './caller-context.js';
export type { ClerkContextFromAuthOptions } from './caller-context.js';
export { clerkProcedures } from './procedures.js';
export { assertEveryProcedureGuarded } from './assert-guarded.js';
export type { AssertEveryProcedureGuardedOptions } from './assert-guarded.js';
export { clerkResponseMeta } from './response-meta.js';
export { admittedAuth } from './admitted.js';
export type { ClerkResponseMeta, ClerkResponseMetaOptions } from './response-meta.js';
export { clerkErrorFormatter } from './error-formatter.js';
export type { ClerkErrorData, ClerkErrorShape } from './error-formatter.js';
export type { ClerkMeta, ClerkProcedureBuilder, ClerkProcedureMeta, ClerkProcedures, ClerkTRPCRoot } from './procedures.js';
export type { AuthForRequirement, AuthForToken, WithActiveOrganization } from './requirement.js';
export type { WebSocketEncoder } from './websocket.js';
