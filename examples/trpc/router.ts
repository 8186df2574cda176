/** The reference app's notes API, as tRPC procedures. */
import { isClerkAPIResponseError } from '@clerk/backend/errors';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { ClerkClient } from 'clerk-api-auth';
import { authorize, machineProcedure, protectedProcedure, publicProcedure, router } from './trpc.js';

/** `ctx.clerk.users.getUser`, with Clerk's answers mapped to tRPC codes (never a 500 for a missing user or an outage). */
async function getUser(clerk: ClerkClient, userId: string) {
  // In networkless mode (CLERK_JWT_KEY only) this access throws ClerkSecretKeyRequiredError,
  // which clerkProcedures answers as NOT_IMPLEMENTED with a message naming CLERK_SECRET_KEY.
  const users = clerk.users;
  try {
    return await users.getUser(userId);
  } catch (error) {
    if (isClerkAPIResponseError(error) && error.status === 404) {
      throw new TRPCError({ code: 'NOT_FOUND', message: `User ${userId} does not exist in this Clerk instance.` });
    }
    throw new TRPCError({ code: 'BAD_GATEWAY', message: "Clerk's Backend API did not answer as expected. Retry shortly.", cause: error });
  }
}

export const appRouter = router({
  health: publicProcedure.query(() => ({ ok: true as const })),

  whoami: protectedProcedure.query(({ ctx }) => ({
    userId: ctx.auth.userId,
    sessionId: ctx.auth.sessionId,
    orgId: ctx.auth.orgId ?? null,
    orgRole: ctx.auth.orgRole ?? null,
    orgPermissions: ctx.auth.orgPermissions ?? [],
  })),

  me: protectedProcedure.query(async ({ ctx }) => {
    const user = await getUser(ctx.clerk, ctx.auth.userId);
    return { id: user.id, email: user.primaryEmailAddress?.emailAddress ?? null };
  }),

  admin: router({
    stats: protectedProcedure.use(authorize({ role: 'org:admin' })).query(({ ctx }) => ({ notes: ctx.notes.count() })),
  }),

  notes: router({
    list: protectedProcedure.query(({ ctx }) => ctx.notes.listBy(ctx.auth.userId)),

    create: protectedProcedure
      .meta({ auth: { permission: 'org:notes:create' } })
      .input(z.object({ text: z.string().trim().min(1).max(10_000) }))
      .mutation(({ ctx, input }) => ctx.notes.create(input.text, ctx.auth.userId)),

    /** Each note the caller creates from now on. Ends with UNAUTHORIZED when the caller's token expires. */
    onAdded: protectedProcedure.subscription(async function* ({ ctx, signal }) {
      yield* ctx.notes.added(ctx.auth.userId, signal);
    }),
  }),

  machine: router({
    ping: machineProcedure.use(authorize({ token: 'm2m_token' })).query(({ ctx }) => ({ machineId: ctx.auth.machineId })),
  }),

  keys: router({
    /** An API key's owner: the user or organization it was created for. */
    ping: machineProcedure.use(authorize({ token: 'api_key' })).query(({ ctx }) => ({ subject: ctx.auth.subject })),
  }),

  reports: router({
    /** Behind the Clerk Billing feature `reports`: a caller whose plan lacks it gets 402 PAYMENT_REQUIRED. */
    export: protectedProcedure.use(authorize({ feature: 'reports' })).query(({ ctx }) => ({ rows: ctx.notes.listBy(ctx.auth.userId).length })),
  }),

  account: router({
    /**
     * Needs a recent reverification (`strict`: second factor within 10 minutes). Otherwise 403 with
     * Clerk's hint in `data.clerk_error`, which `useReverification` turns into a prompt and a retry.
     */
    rotateKey: protectedProcedure.use(authorize({ reverification: 'strict' })).mutation(() => ({ rotated: true as const })),
  }),
});

export type AppRouter = typeof appRouter;
