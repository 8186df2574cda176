import { ClerkAuthConfigError, type AuthRequirement, type TokenKind } from '../core/internal.js';
import { checkedRequirement, META_REQUIREMENTS, requirementList, storedRequirements } from './meta.js';

/** What a guard middleware of `clerkProcedures` enforces, for the checks made when procedures are built. */
interface GuardInfo {
  /** The builder this guard starts (`protectedProcedure`, …), or `null` for `authorize()`. */
  readonly builder: string | null;
  /** What the guard requires, or `null` (publicProcedure's guard only enforces `.meta({ auth })`). */
  readonly requirement: AuthRequirement | null;
}

const guards = new WeakMap<object, GuardInfo>();

/** Records what a guard middleware enforces, so that builders can tell requirements no token meets. @internal */
export function registerGuard(middleware: object, info: GuardInfo): void {
  guards.set(middleware, info);
}

const ALL_KINDS: readonly TokenKind[] = ['session_token', 'm2m_token', 'api_key', 'oauth_token'];

/** The token kinds a requirement admits: its `token`, or a session token when it names none. */
function kindsOf(requirement: AuthRequirement): readonly TokenKind[] {
  const token = requirement.token ?? 'session_token';
  if (token === 'any') return ALL_KINDS;
  return typeof token === 'string' ? [token] : token;
}

/** The part of a tRPC procedure builder this module reads (its `_def`, as tRPC's own `concat` does). */
interface BuilderDef {
  meta?: unknown;
  middlewares: readonly unknown[];
}
type AnyBuilder = { _def: BuilderDef } & Record<PropertyKey, unknown>;

function isBuilder(value: unknown): value is AnyBuilder {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Partial<Record<'_def' | 'query' | 'meta', unknown>>;
  return typeof candidate.query === 'function' && typeof candidate.meta === 'function' && typeof candidate._def === 'object' && candidate._def !== null;
}

/** The guards of a builder's middlewares (a middleware builder from `t.middleware` contributes each of its own). */
function guardsIn(middlewares: readonly unknown[]): GuardInfo[] {
  const found: GuardInfo[] = [];
  for (const middleware of middlewares) {
    if (typeof middleware !== 'function' && (typeof middleware !== 'object' || middleware === null)) continue;
    const info = guards.get(middleware);
    if (info !== undefined) found.push(info);
    const piped = (middleware as { _middlewares?: unknown })._middlewares;
    if (Array.isArray(piped)) found.push(...guardsIn(piped));
  }
  return found;
}

/** What a builder requires so far: the name it started as, and the token kinds that can still pass all its guards. */
function admittedBy(def: BuilderDef): { name: string; kinds: readonly TokenKind[] } {
  let name = 'this procedure builder';
  let kinds = ALL_KINDS;
  const requirements: AuthRequirement[] = [];
  for (const info of guardsIn(def.middlewares)) {
    if (info.builder !== null && name === 'this procedure builder') name = info.builder;
    if (info.requirement !== null) requirements.push(info.requirement);
  }
  requirements.push(...storedRequirements(def.meta));
  for (const requirement of requirements) kinds = kinds.filter((kind) => kindsOf(requirement).includes(kind));
  return { name, kinds };
}

/**
 * Every requirement a built procedure (or builder) enforces: its guards' (`protectedProcedure`,
 * `machineProcedure`, `authorize()`) and its `.meta({ auth })`. Empty when nothing guards it (a bare
 * `publicProcedure`, or a builder not from `clerkProcedures`). For `assertEveryProcedureGuarded`.
 *
 * @internal
 */
export function requirementsOf(def: { readonly meta?: unknown; readonly middlewares?: readonly unknown[] }): readonly AuthRequirement[] {
  const fromGuards = guardsIn(def.middlewares ?? []).flatMap((info) => (info.requirement === null ? [] : [info.requirement]));
  return [...fromGuards, ...storedRequirements(def.meta)];
}

const list = (kinds: readonly TokenKind[]): string => kinds.map((kind) => `'${kind}'`).join(', ');

/**
 * Throws when `added` can never hold on top of what `def` already requires: no token kind passes
 * both (say, `machineProcedure.use(authorize({ token: 'oauth_token' }))`, or a `.meta({ auth })`
 * without `token` — which means a session — on `machineProcedure`). Every call would be refused.
 */
function assertSatisfiable(def: BuilderDef, added: readonly AuthRequirement[], what: string): void {
  const before = admittedBy(def);
  const name = before.name;
  let kinds = before.kinds;
  for (const requirement of added) {
    const wanted = kindsOf(requirement);
    const left = kinds.filter((kind) => wanted.includes(kind));
    if (left.length > 0) {
      kinds = left;
      continue;
    }
    const defaulted = requirement.token === undefined ? ' (what a requirement that names no `token` means)' : '';
    const fix =
      requirement.token === undefined
        ? `Name the token kinds it is for, e.g. \`token: ${kinds.length === 1 ? `'${kinds[0]}'` : `[${list(kinds)}]`}\`.`
        : `Build the procedure from \`publicProcedure.use(authorize({ token: ${typeof requirement.token === 'string' ? `'${requirement.token}'` : `[${list(wanted)}]`} }))\` instead.`;
    throw new ClerkAuthConfigError(
      `${what} requires ${list(wanted)}${defaulted}, but ${name} admits only ${list(kinds)} at that point: no token can pass, every call would be refused. ${fix}`,
    );
  }
}

const hasOwn = (value: object, key: PropertyKey): boolean => Object.prototype.hasOwnProperty.call(value, key);

/**
 * `.meta(meta)` of a Clerk builder: the `auth` requirement is validated now and added to the ones
 * set before (stored under `META_REQUIREMENTS`, where tRPC's shallow merge cannot drop it); the
 * rest of the meta goes to tRPC as is.
 */
function withMeta(target: AnyBuilder, meta: unknown): unknown {
  const setMeta = (value: unknown): unknown => Reflect.apply(target.meta as (meta: unknown) => unknown, target, [value]);
  if (meta === null || typeof meta !== 'object' || (!hasOwn(meta, 'auth') && !hasOwn(meta, META_REQUIREMENTS))) return setMeta(meta);
  const { name } = admittedBy(target._def);
  // A meta spread from another procedure's carries that one's list: it adds up too.
  const added = [...storedRequirements(meta)];
  if (hasOwn(meta, 'auth')) {
    const auth = (meta as { auth?: unknown }).auth;
    if (auth === undefined) {
      throw new ClerkAuthConfigError(
        `${name}.meta({ auth: undefined }) cannot remove or replace a requirement: the requirements of .meta({ auth }) calls add up (all must hold). ` +
          'Remove the `auth` key (spread it in only when there is one), or build this procedure from a builder that does not carry the requirement.',
      );
    }
    added.push(checkedRequirement(auth, `${name}.meta({ auth })`));
  }
  assertSatisfiable(target._def, added, `${name}.meta({ auth })`);
  const rest: Record<PropertyKey, unknown> = { ...meta };
  delete rest.auth;
  const all = [...storedRequirements(target._def.meta), ...added];
  if (all.length > 0) rest[META_REQUIREMENTS] = requirementList(all);
  else delete rest[META_REQUIREMENTS];
  return setMeta(rest);
}

/** `.concat(other)` of a Clerk builder: tRPC merges the metas shallowly, so both lists of requirements are kept here. */
function withConcat(target: AnyBuilder, method: PropertyKey, other: unknown): unknown {
  const result = Reflect.apply(target[method] as (other: unknown) => unknown, target, [other]);
  if (!isBuilder(other) || !isBuilder(result)) return result;
  const otherGuards = guardsIn(other._def.middlewares).flatMap((info) => (info.requirement === null ? [] : [info.requirement]));
  const ours = storedRequirements(target._def.meta);
  const theirs = storedRequirements(other._def.meta);
  assertSatisfiable(target._def, [...otherGuards, ...theirs], `${admittedBy(target._def).name}.${String(method)}(…)`);
  if (ours.length === 0 || theirs.length === 0) return result;
  // tRPC's merge kept only their list: keep both.
  return Reflect.apply(result.meta as (meta: unknown) => unknown, result, [{ [META_REQUIREMENTS]: requirementList([...ours, ...theirs]) }]);
}

/** `.use(middleware)` of a Clerk builder: an `authorize()` no token can pass on this builder throws now. */
function withUse(target: AnyBuilder, middleware: unknown): unknown {
  const added = guardsIn([middleware]).flatMap((info) => (info.requirement === null ? [] : [info.requirement]));
  if (added.length > 0) assertSatisfiable(target._def, added, `${admittedBy(target._def).name}.use(authorize(…))`);
  return Reflect.apply(target.use as (middleware: unknown) => unknown, target, [middleware]);
}

/**
 * Wraps a tRPC procedure builder so that its `.meta({ auth })` adds requirements instead of
 * replacing them, and checks them when the procedure is built: a malformed requirement, an
 * `auth: undefined`, or a requirement no token kind can meet on this builder throws
 * `ClerkAuthConfigError` at startup. Every method that returns a builder (`input`, `use`, `meta`,
 * `concat`, `errors`, …) returns a wrapped one; `query`, `mutation` and `subscription` return
 * tRPC's own procedures, untouched, so a request costs nothing extra.
 *
 * @internal
 */
export function clerkBuilder<TBuilder extends object>(builder: TBuilder): TBuilder {
  return new Proxy(builder, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key);
      if (typeof value !== 'function' || !isBuilder(target)) return value;
      let method: (...args: unknown[]) => unknown;
      if (key === 'meta') method = (meta) => withMeta(target, meta);
      else if (key === 'use') method = (middleware) => withUse(target, middleware);
      else if (key === 'concat' || key === 'unstable_concat') method = (other) => withConcat(target, key, other);
      else method = (...args) => Reflect.apply(value as (...args: unknown[]) => unknown, target, args);
      return (...args: unknown[]) => {
        const result = method(...args);
        return isBuilder(result) ? clerkBuilder(result) : result;
      };
    },
  });
}
