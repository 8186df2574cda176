/**
 * clerk-api-auth/pothos: the `clerk` option of the Pothos plugin becomes the schema's
 * `extensions.clerk`, checked by the core's validator when the schema is built; a builder that uses
 * the option without the plugin is refused instead of served unguarded. And the reference app's
 * Pothos schema is the reference schema: the same types and the same rules as the SDL.
 */
import SchemaBuilder from '@pothos/core';
import {
  buildASTSchema,
  getNamedType,
  isInterfaceType,
  isSchema,
  versionInfo,
  isObjectType,
  parse,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { clerkDirectiveTransformer, clerkDirectiveTypeDefs } from 'clerk-api-auth/graphql';
import { clerkPothosPlugin } from 'clerk-api-auth/pothos';
import { createPothosNotesSchema } from '../../examples/pothos/schema.js';
import { typeDefs } from '../../examples/graphql-yoga/schema.js';
import { NotesStore } from '../../examples/shared/notes.js';
import { compileRules } from '../../src/graphql/rules.js';

/** Every named type of a schema (no introspection, no built-in scalars), as comparable data. */
function shape(schema: GraphQLSchema): Record<string, unknown> {
  const types: Record<string, unknown> = {};
  const fieldsOf = (fields: Record<string, GraphQLField<unknown, unknown>>) =>
    Object.fromEntries(
      Object.values(fields)
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((field) => [
          field.name,
          {
            type: String(field.type),
            description: field.description ?? null,
            args: Object.fromEntries(field.args.map((arg) => [arg.name, String(arg.type)])),
          },
        ]),
    );
  // The enums and inputs of the directives' arguments come with clerkDirectiveTypeDefs, not with the app's types.
  const directiveTypes = new Set(schema.getDirectives().flatMap((directive) => directive.args.map((arg) => getNamedType(arg.type).name)));
  for (const type of Object.values(schema.getTypeMap()) as GraphQLNamedType[]) {
    if (type.name.startsWith('__') || ['String', 'Boolean', 'Int', 'Float', 'ID'].includes(type.name)) continue;
    if (directiveTypes.has(type.name) || (type.name.startsWith('Clerk') && !isObjectType(type) && !isInterfaceType(type))) continue;
    if (isObjectType(type)) types[type.name] = { kind: 'object', interfaces: type.getInterfaces().map(String), fields: fieldsOf(type.getFields()) };
    else if (isInterfaceType(type)) types[type.name] = { kind: 'interface', fields: fieldsOf(type.getFields()) };
    else types[type.name] = { kind: 'other' };
  }
  return types;
}

/** A requirement as the core reads it: a single role (permission, ...) is a list of one. */
function normalized(requirement: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(requirement)) out[key] = typeof value === 'string' && key !== 'token' && key !== 'reverification' ? [value] : value;
  return out;
}

/** The effective rule of every guarded field, by coordinate. */
function rules(schema: GraphQLSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [type, fields] of compileRules(schema).guardedFields) {
    for (const [field, rule] of fields) out[`${type}.${field}`] = rule.requirements.map(normalized);
  }
  return out;
}

describe('the reference app built with Pothos', () => {
  const pothos = createPothosNotesSchema(new NotesStore());
  const sdl = buildASTSchema(parse(`${clerkDirectiveTypeDefs}\n${typeDefs}`));

  it('is built with the graphql the rest of the server uses (one realm, graphql 16 or 17)', () => {
    expect(isSchema(pothos)).toBe(true);
    expect([16, 17]).toContain(versionInfo.major);
  });

  it('has exactly the types of the SDL schema (fields, arguments, nullability, interfaces, descriptions)', () => {
    expect(shape(pothos)).toEqual(shape(sdl));
    expect(Object.keys(shape(pothos))).toEqual(expect.arrayContaining(['Node', 'Note', 'User', 'Stats', 'Query', 'Mutation', 'Subscription']));
  });

  it('has exactly the rules of the SDL directives, field by field', () => {
    const expected = rules(sdl);
    expect(rules(pothos)).toEqual(expected);
    expect(expected['Query.adminStats']).toEqual([{ role: ['org:admin'] }]);
    expect(expected['Mutation.createNote']).toEqual([{ permission: ['org:notes:create'] }]);
    expect(expected['Note.text']).toEqual([{}]);
    expect(expected['Query.node']).toBeUndefined();
  });
});

describe('the clerk option', () => {
  function builder() {
    return new SchemaBuilder<{ Context: object }>({ plugins: [clerkPothosPlugin] });
  }

  it('writes each rule to extensions.clerk, where the rules are read; a type rule covers its fields and an interface rule its implementations', () => {
    const b = builder();
    const Named = b.interfaceRef<{ name: string }>('Named').implement({ clerk: { permission: 'org:names:read' }, fields: (t) => ({ name: t.exposeString('name') }) });
    const Pet = b.objectRef<{ name: string }>('Pet').implement({ interfaces: [Named], clerk: true, fields: (t) => ({ legs: t.int({ resolve: () => 4 }) }) });
    b.queryType({
      fields: (t) => ({
        open: t.string({ resolve: () => 'x' }),
        pet: t.field({ type: Pet, nullable: true, resolve: () => null }),
        admin: t.string({ clerk: { role: ['org:admin', 'org:owner'] }, resolve: () => 'x' }),
        robot: t.string({ clerk: { token: 'm2m_token' }, resolve: () => 'x' }),
      }),
    });
    b.mutationType({ clerk: { permission: 'org:write' }, fields: (t) => ({ write: t.boolean({ resolve: () => true }) }) });
    const schema = b.toSchema();
    expect(schema.getQueryType()?.getFields().admin?.extensions).toMatchObject({ clerk: { role: ['org:admin', 'org:owner'] } });
    expect(rules(schema)).toEqual({
      'Query.admin': [{ role: ['org:admin', 'org:owner'] }],
      'Query.robot': [{ token: 'm2m_token' }],
      'Pet.legs': [{}, { permission: ['org:names:read'] }],
      'Pet.name': [{}, { permission: ['org:names:read'] }],
      'Mutation.write': [{ permission: ['org:write'] }],
    });
  });

  it('a malformed rule refuses the schema when it is built, naming the field and the fix', () => {
    const b = builder();
    b.queryType({ fields: (t) => ({ stats: t.int({ clerk: { rol: 'org:admin' } as never, resolve: () => 1 }) }) });
    expect(() => b.toSchema()).toThrow(expect.objectContaining({ code: 'CLERK_AUTH_CONFIG', message: expect.stringMatching(/Query\.stats.*"rol".*Did you mean "role"\?/s) }));

    const c = builder();
    c.queryType({ fields: (t) => ({ stats: t.int({ clerk: { role: [] } as never, resolve: () => 1 }) }) });
    expect(() => c.toSchema()).toThrow(expect.objectContaining({ code: 'CLERK_AUTH_CONFIG', message: expect.stringContaining('`role`') }));

    const d = builder();
    const Thing = d.objectRef<object>('Thing').implement({ clerk: 'yes' as never, fields: (t) => ({ a: t.string({ resolve: () => 'a' }) }) });
    d.queryType({ fields: (t) => ({ thing: t.field({ type: Thing, resolve: () => ({}) }) }) });
    expect(() => d.toSchema()).toThrow(expect.objectContaining({ code: 'CLERK_AUTH_CONFIG', message: expect.stringContaining('Thing') }));
  });

  it('the clerk option and extensions.clerk on one element are refused: a rule is given once', () => {
    const b = builder();
    b.queryType({ fields: (t) => ({ a: t.string({ clerk: true, extensions: { clerk: { role: 'org:admin' } }, resolve: () => 'a' }) }) });
    expect(() => b.toSchema()).toThrow(expect.objectContaining({ code: 'CLERK_AUTH_CONFIG', message: expect.stringContaining('Query.a has both') }));
  });

  it('a builder without the plugin that uses the option is refused by the rules, never served unguarded', () => {
    const b = new SchemaBuilder<{ Context: object }>({});
    b.queryType({ fields: (t) => ({ secret: t.string({ clerk: true, resolve: () => 'hidden' }) }) });
    const schema = b.toSchema();
    expect(() => clerkDirectiveTransformer(schema)).toThrow(expect.objectContaining({ code: 'CLERK_AUTH_CONFIG', message: expect.stringContaining('clerkPothosPlugin') }));
    expect(() => compileRules(schema)).toThrow(/Query\.secret has a Pothos `clerk` option/);
  });

  it('plain extensions.clerk (without the option) still works under the plugin, and is typed on fields', () => {
    const b = builder();
    b.queryType({ fields: (t) => ({ a: t.string({ extensions: { clerk: { permission: 'org:a:read' } }, resolve: () => 'a' }) }) });
    expect(rules(b.toSchema())).toEqual({ 'Query.a': [{ permission: ['org:a:read'] }] });
  });
});
