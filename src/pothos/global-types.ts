import type { FieldNullability, InputFieldMap, InterfaceParam, RootName, SchemaTypes, TypeParam } from '@pothos/core';
import type { ClerkRuleExtension } from '../graphql/directives.js';
import type { PothosClerkPlugin } from './plugin.js';

// The `clerk` option on Pothos's fields and types. The type parameters repeat Pothos's own exactly:
// declarations of one interface must agree on them.
declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      clerk: PothosClerkPlugin<Types>;
    }

    export interface FieldOptions<
      Types extends SchemaTypes = SchemaTypes,
      ParentShape = unknown,
      Type extends TypeParam<Types> = TypeParam<Types>,
      Nullable extends FieldNullability<Type> = FieldNullability<Type>,
      Args extends InputFieldMap = InputFieldMap,
      ResolveShape = unknown,
      ResolveReturnShape = unknown,
    > {
      /**
       * clerk-api-auth: who may read this field. `true` is "signed in" (as `@auth`); an
       * `AuthRequirement` can also ask for roles, permissions, features, plans, machine-token kinds,
       * scopes or reverification. Needs the plugin (`plugins: [clerkPothosPlugin]`).
       */
      clerk?: ClerkRuleExtension;
    }

    export interface ObjectTypeOptions<Types extends SchemaTypes = SchemaTypes, Shape = unknown> {
      /** clerk-api-auth: who may read any field of this type (as a directive on the type). Needs the plugin. */
      clerk?: ClerkRuleExtension;
    }

    export interface InterfaceTypeOptions<
      Types extends SchemaTypes = SchemaTypes,
      Shape = unknown,
      Interfaces extends InterfaceParam<Types>[] = InterfaceParam<Types>[],
      ResolveType = unknown,
    > {
      /** clerk-api-auth: who may read any field of this interface and of every type implementing it. Needs the plugin. */
      clerk?: ClerkRuleExtension;
    }

    export interface RootTypeOptions<Types extends SchemaTypes, Type extends RootName> {
      /** clerk-api-auth: who may run any field of this root type. Needs the plugin. */
      clerk?: ClerkRuleExtension;
    }
  }
}
