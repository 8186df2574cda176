import { ClerkAuthConfigError, validateRequirement, type AuthRequirement } from '../core/internal.js';

/**
 * Where a procedure's meta keeps the requirements its `.meta({ auth })` calls added, in order: a
 * frozen list. A registered symbol, so that tRPC's shallow meta merge (`{ ...old, ...new }`, which
 * copies own symbol keys) carries it from builder to builder, and so that the ESM and CJS builds of
 * this package read each other's procedures.
 *
 * @internal
 */
export const META_REQUIREMENTS: unique symbol = Symbol.for('clerk-api-auth/trpc.meta-requirements');

const validated = new WeakSet<object>();
const validatedLists = new WeakSet<readonly AuthRequirement[]>();
const NONE: readonly AuthRequirement[] = Object.freeze([]);

/** `validateRequirement`, once per requirement object. @internal */
export function checkedRequirement(value: unknown, where: string): AuthRequirement {
  if (typeof value === 'object' && value !== null && validated.has(value)) return value as AuthRequirement;
  const requirement = validateRequirement(value, where);
  validated.add(requirement);
  return requirement;
}

/** A frozen, validated list of requirements, as stored under `META_REQUIREMENTS`. @internal */
export function requirementList(requirements: readonly AuthRequirement[]): readonly AuthRequirement[] {
  const list = Object.freeze([...requirements]);
  validatedLists.add(list);
  return list;
}

/**
 * The requirements stored in a meta object by the builders' `.meta({ auth })`, validated (once per
 * list: the builders store lists they validated, so a request pays one lookup). Anything else under
 * the key — set by hand — is validated here and fails closed with `ClerkAuthConfigError`.
 *
 * @internal
 */
export function storedRequirements(meta: unknown): readonly AuthRequirement[] {
  if (meta === null || typeof meta !== 'object') return NONE;
  const value = (meta as { [META_REQUIREMENTS]?: unknown })[META_REQUIREMENTS];
  if (value === undefined) return NONE;
  if (Array.isArray(value) && validatedLists.has(value)) return value as readonly AuthRequirement[];
  if (!Array.isArray(value)) throw new ClerkAuthConfigError('The requirements stored in a procedure meta must be a list; set them with `.meta({ auth })` on the builders of clerkProcedures(t).');
  return requirementList(value.map((item: unknown) => checkedRequirement(item, 'meta.auth')));
}
