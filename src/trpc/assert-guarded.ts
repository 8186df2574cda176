import type { AnyTRPCRouter } from '@trpc/server';
import { requirementsOf } from './builder.js';

/**
 * Options of `assertEveryProcedureGuarded`.
 *
 * @example
 * ```ts
 * const options: AssertEveryProcedureGuardedOptions = { public: ['health', 'docs.openapi'] };
 * ```
 */
export interface AssertEveryProcedureGuardedOptions {
  /** Paths (`health`, `docs.openapi`) of the procedures meant to be callable by anyone. */
  readonly public?: readonly string[];
}

interface ProcedureDef {
  readonly meta?: unknown;
  readonly middlewares?: readonly unknown[];
}

/**
 * Fails (throws an `Error` naming every offender and how to fix it) when a procedure of `router` is
 * neither guarded nor listed in `options.public`: for a test, so that a procedure added without a
 * guard breaks the build instead of shipping open. A procedure is guarded when it is built from
 * `protectedProcedure` or `machineProcedure`, uses `authorize(…)`, or has `.meta({ auth })` (all from
 * `clerkProcedures(t)`); a bare `publicProcedure` or `t.procedure` is not. Also fails on a `public`
 * entry that names no procedure (a stale list), and on lazy routers not loaded yet (fail closed: call
 * them once before asserting).
 *
 * @example
 * ```ts
 * import { it } from 'vitest';
 * import { assertEveryProcedureGuarded } from 'clerk-api-auth/trpc';
 * import { appRouter } from '../server/router.js';
 *
 * it('guards every procedure but health', () => {
 *   assertEveryProcedureGuarded(appRouter, { public: ['health'] });
 * });
 * ```
 */
export function assertEveryProcedureGuarded(router: AnyTRPCRouter, options: AssertEveryProcedureGuardedOptions = {}): void {
  const def = router._def as unknown as { procedures: Record<string, { _def?: ProcedureDef } | undefined>; lazy?: Record<string, unknown> };
  const listed = new Set(options.public ?? []);
  const problems: string[] = [];
  const paths = Object.keys(def.procedures).sort();
  for (const path of paths) {
    if (listed.has(path)) continue;
    const procedureDef = def.procedures[path]?._def ?? {};
    if (requirementsOf(procedureDef).length === 0) {
      problems.push(
        `- ${path}: no guard. Build it from protectedProcedure or machineProcedure, add .use(authorize({ … })) or .meta({ auth: { … } }), ` +
          `or, if anyone may call it, list '${path}' in { public: [...] }.`,
      );
    }
  }
  for (const path of Object.keys(def.lazy ?? {}).sort()) {
    problems.push(`- ${path}: a lazy router not loaded yet, so its procedures cannot be checked. Load it first (await one call into it), then assert.`);
  }
  for (const path of [...listed].sort()) {
    if (!paths.includes(path)) problems.push(`- '${path}' is listed in { public: [...] } but no procedure has that path: remove it or fix its spelling.`);
  }
  if (problems.length > 0) {
    throw new Error(`Every tRPC procedure must be guarded or listed public; ${problems.length === 1 ? 'one is not' : `${problems.length} are not`}:\n${problems.join('\n')}`);
  }
}
