/**
 * The tRPC instance of the reference app, and the guarded procedures built from it — the lines a
 * user of `clerk-api-auth/trpc` writes once per app.
 */
import { initTRPC } from '@trpc/server';
import { clerkErrorFormatter, clerkProcedures, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';
import type { NotesStore } from '../shared/notes.js';

/** Clerk's context plus the app's own fields. */
export interface AppContext extends ClerkContext {
  notes: NotesStore;
  /**
   * Names the caller of this request in the server's access log when a guard admitted a machine
   * token (the context itself only knows sessions: machine tokens are verified by the guards that
   * accept them). Optional: a server without an access log leaves it out.
   */
  noteCaller?: (id: string) => void;
}

// `isDev: false`: error responses never carry a stack trace, whatever NODE_ENV says.
// `clerkErrorFormatter`: Clerk's reverification hint (`data.clerk_error`) and missing billing
// entitlements (`data.missing`) reach the client, for `useReverification` and upgrade prompts.
const t = initTRPC.context<AppContext>().meta<ClerkMeta>().create({ isDev: false, errorFormatter: clerkErrorFormatter });

export const router = t.router;
const procedures = clerkProcedures(t);
export const { publicProcedure, protectedProcedure, authorize } = procedures;

/** `machineProcedure`, naming the admitted machine (an M2M token's machine, an API key's owner) in the access log. */
export const machineProcedure = procedures.machineProcedure.use(({ ctx, next }) => {
  ctx.noteCaller?.(ctx.auth.subject);
  return next();
});
