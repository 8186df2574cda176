/**
 * The tRPC instance of the reference app, and the guarded procedures built from it — the lines a
 * user of `clerk-api-auth/trpc` writes once per app.
 */
import { initTRPC } from '@trpc/server';
import { clerkProcedures, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';
import type { NotesStore } from '../shared/notes.js';

/** Clerk's context plus the app's own fields. */
export interface AppContext extends ClerkContext {
  notes: NotesStore;
}

// `isDev: false`: error responses never carry a stack trace, whatever NODE_ENV says.
const t = initTRPC.context<AppContext>().meta<ClerkMeta>().create({ isDev: false });

export const router = t.router;
export const { publicProcedure, protectedProcedure, machineProcedure, authorize } = clerkProcedures(t);
