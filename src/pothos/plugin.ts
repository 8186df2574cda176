import * as pothos from '@pothos/core';
import { BasePlugin, type PothosOutputFieldConfig, type PothosTypeConfig, type SchemaTypes } from '@pothos/core';
import type { GraphQLSchema } from 'graphql';
import { ClerkAuthConfigError } from '../core/internal.js';
import { CLERK_EXTENSION_KEY } from '../graphql/directives.js';
import { compileRules } from '../graphql/rules.js';
import './global-types.js';

/**
 * The name of the Pothos plugin of clerk-api-auth, to list in `plugins`.
 *
 * @example
 * ```ts
 * import SchemaBuilder from '@pothos/core';
 * import { clerkPothosPlugin } from 'clerk-api-auth/pothos';
 * const builder = new SchemaBuilder({ plugins: [clerkPothosPlugin] });
 * ```
 */
export const clerkPothosPlugin = 'clerk' as const;

/**
 * The Pothos plugin behind the `clerk` option: it writes each field's and type's rule to
 * `extensions.clerk`, where `useClerk` and `clerkDirectiveTransformer` read it, and checks every
 * rule of the built schema with the core's validator when `builder.toSchema()` runs (an unknown
 * key, an empty role, an unknown token kind... throw `ClerkAuthConfigError` there). Registered with
 * Pothos when this module loads; list it as `plugins: [clerkPothosPlugin]` (a builder without it
 * that uses the `clerk` option is refused by `useClerk`, never served unguarded).
 *
 * @example
 * ```ts
 * import SchemaBuilder from '@pothos/core';
 * import { clerkPothosPlugin } from 'clerk-api-auth/pothos';
 *
 * const builder = new SchemaBuilder({ plugins: [clerkPothosPlugin] });
 * builder.queryType({
 *   fields: (t) => ({ secret: t.string({ clerk: { role: 'org:admin' }, resolve: () => 'hidden' }) }),
 * });
 * const schema = builder.toSchema();
 * ```
 */
export class PothosClerkPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onTypeConfig(typeConfig: PothosTypeConfig): PothosTypeConfig {
    if (typeConfig.graphqlKind !== 'Object' && typeConfig.graphqlKind !== 'Interface') return typeConfig;
    const rule = (typeConfig.pothosOptions as { clerk?: unknown }).clerk;
    if (rule === undefined) return typeConfig;
    return { ...typeConfig, extensions: withRule(typeConfig.extensions, rule, typeConfig.name) } as PothosTypeConfig;
  }

  override onOutputFieldConfig(fieldConfig: PothosOutputFieldConfig<Types>): PothosOutputFieldConfig<Types> | null {
    const rule = (fieldConfig.pothosOptions as { clerk?: unknown }).clerk;
    if (rule === undefined) return fieldConfig;
    return { ...fieldConfig, extensions: withRule(fieldConfig.extensions, rule, `${fieldConfig.parentType}.${fieldConfig.name}`) };
  }

  override afterBuild(schema: GraphQLSchema): GraphQLSchema {
    // The one compiler and validator of rules (`validateRequirement`), now rather than on the first request.
    compileRules(schema);
    return schema;
  }
}

function withRule(extensions: Readonly<Record<string, unknown>> | null | undefined, rule: unknown, where: string): Record<string, unknown> {
  if (extensions?.[CLERK_EXTENSION_KEY] !== undefined) {
    throw new ClerkAuthConfigError(`${where} has both the \`clerk\` option and \`extensions.clerk\`: give its rule once.`);
  }
  return { ...extensions, [CLERK_EXTENSION_KEY]: rule };
}

type SchemaBuilderClass = typeof pothos.default;

/**
 * Pothos's `SchemaBuilder` (its default export, its only export of the class), however this build
 * receives it: the class itself (ESM), or the CommonJS exports object that holds it (`require` of
 * Pothos's CommonJS build through a Node-style default import).
 */
function schemaBuilderClass(): SchemaBuilderClass {
  const candidate: unknown = pothos.default;
  for (const value of [candidate, (candidate as { default?: unknown } | null | undefined)?.default]) {
    if (typeof (value as SchemaBuilderClass | undefined)?.registerPlugin === 'function') return value as SchemaBuilderClass;
  }
  throw new ClerkAuthConfigError('clerk-api-auth/pothos could not find @pothos/core\'s SchemaBuilder: install @pothos/core 4.');
}

schemaBuilderClass().registerPlugin(clerkPothosPlugin, PothosClerkPlugin);
