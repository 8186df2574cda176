/**
 * The pre-execution walk (src/graphql/plan.ts) in-process: nodes selecting the same field on the same
 * possible types share one decision, and a node reached again on other types gets those types added
 * without changing what other nodes share.
 */
import { describe, expect, it } from 'vitest';
import { getOperationAST, Kind, parse, visit, type FieldNode, type FragmentDefinitionNode } from 'graphql';
import { createSchema } from 'graphql-yoga';
import { createClerkAuth } from 'clerk-api-auth';
import { clerkDirectiveTypeDefs } from 'clerk-api-auth/graphql';
import { createTestIssuer } from 'clerk-api-auth/testing';
import { planOperation } from '../../src/graphql/plan.js';
import { compileRules } from '../../src/graphql/rules.js';

const TYPE_DEFS = /* GraphQL */ `
  interface Named { name: String }
  type A implements Named @auth { name: String }
  type B implements Named @hasRole(role: "org:admin") { name: String }
  type C implements Named { name: String }
  union AC = A | C
  union BC = B | C
  type Query { ac: AC bc: BC }
`;

async function planFor(source: string, token?: string) {
  const issuer = await createTestIssuer();
  const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
  const result = await clerkAuth.authenticate(token === undefined ? null : await issuer.sessionToken({ userId: 'user_1', org: { id: 'org_1', role: token } }));
  const document = parse(source);
  const operation = getOperationAST(document);
  if (!operation) throw new Error('no operation');
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  const rules = compileRules(createSchema({ typeDefs: [clerkDirectiveTypeDefs, TYPE_DEFS], resolvers: {} }));
  const plan = planOperation({ rules, operation, fragments, variables: undefined, check: (requirement) => clerkAuth.check(result, requirement) });
  const nodes = new Map<string, FieldNode>();
  visit(document, { Field: (node) => void nodes.set(node.alias?.value ?? node.name.value, node) });
  return { plan, nodes };
}

describe('planOperation', () => {
  it('a fragment reached on [A, C] then on [B, C] denies its node on A and B; a node sharing the [A, C] decision keeps only A', async () => {
    const { plan, nodes } = await planFor('{ ac { ...F } bc { ...F } again: ac { ... on Named { other: name } } } fragment F on Named { name }');
    const fragmentNode = plan.denials.get(nodes.get('name') as FieldNode);
    expect([...(fragmentNode?.byType.keys() ?? [])].sort()).toEqual(['A', 'B']);
    expect(fragmentNode?.byType.get('A')?.code).toBe('UNAUTHENTICATED');
    const other = plan.denials.get(nodes.get('other') as FieldNode);
    expect([...(other?.byType.keys() ?? [])]).toEqual(['A']);
    expect(plan.guarded).toBe(true);
  });

  it('5000 aliases of one field: 5000 denials, one shared decision, one shared budget', async () => {
    const aliases = Array.from({ length: 5000 }, (_, i) => `a${i}: name`).join(' ');
    const { plan } = await planFor(`{ ac { ... on A { ${aliases} } } }`);
    const denials = [...plan.denials.values()];
    expect(denials).toHaveLength(5000);
    expect(new Set(denials.map((denial) => denial.byType)).size).toBe(1);
    expect(new Set(denials.map((denial) => denial.budget)).size).toBe(1);
    expect(denials[0]?.budget.reported).toBe(0);
  });

  it('a caller allowed on some types is denied only where a rule fails', async () => {
    // Signed in as a member: A (@auth) is allowed, B (@hasRole admin) is not.
    const { plan, nodes } = await planFor('{ ac { ...F } bc { ...F } } fragment F on Named { name }', 'member');
    const denial = plan.denials.get(nodes.get('name') as FieldNode);
    expect([...(denial?.byType.keys() ?? [])]).toEqual(['B']);
    expect(denial?.byType.get('B')?.code).toBe('FORBIDDEN');
  });
});
