/** The mistake typed-roles.test.ts expects the compiler to catch: a mistyped role, unmarked. */
import { initTRPC } from '@trpc/server';
import { clerkProcedures, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';

const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create();
export const adminOnly = clerkProcedures(t).authorize({ role: 'org:admni' });
