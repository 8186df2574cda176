/** PerExecution's bookkeeping in-process: one value per execution, whatever shares the context object. */
import { parse, type GraphQLResolveInfo, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { PerExecution } from '../../src/graphql/execution.js';

const operation = (source: string): OperationDefinitionNode => parse(source).definitions[0] as OperationDefinitionNode;
const infoOf = (op: OperationDefinitionNode, variableValues: object = {}): GraphQLResolveInfo =>
  ({ operation: op, variableValues }) as unknown as GraphQLResolveInfo;

function counting(): { per: PerExecution<string>; made: string[] } {
  const made: string[] = [];
  const per = new PerExecution<string>((_context, info) => {
    const value = `${info.operation.name?.value ?? 'anonymous'}#${made.length}`;
    made.push(value);
    return value;
  });
  return { per, made };
}

describe('PerExecution', () => {
  it('decides an execution once, however many resolvers ask; its trace on the context is a symbol no other execution reads', () => {
    const { per, made } = counting();
    const context = { auth: 'x' };
    const info = infoOf(operation('query A { a }'));
    expect(per.of(context, info)).toBe('A#0');
    expect(per.of(context, { ...info } as GraphQLResolveInfo)).toBe('A#0');
    expect(made).toEqual(['A#0']);
    expect(Object.keys(context)).toEqual(['auth']);
    expect(JSON.stringify(context)).toBe('{"auth":"x"}');
    // A server that copies a context for another operation copies the symbol too: that operation is still decided on its own.
    const copy = { ...context };
    expect(per.of(copy, infoOf(info.operation))).toBe('A#1');
    expect(per.of(copy, info)).toBe('A#0');
  });

  it('executions sharing one context (graphql-ws) each get their own value, and remember() replaces only its own', () => {
    const { per, made } = counting();
    const context = {};
    const first = infoOf(operation('query A { a }'));
    const second = infoOf(operation('query B { b }'));
    const sameOperationNewVariables = infoOf(first.operation);
    expect(per.of(context, first)).toBe('A#0');
    expect(per.of(context, second)).toBe('B#1');
    expect(per.of(context, sameOperationNewVariables)).toBe('A#2');
    expect([per.of(context, first), per.of(context, second), per.of(context, sameOperationNewVariables)]).toEqual(['A#0', 'B#1', 'A#2']);
    per.remember(context, first, 'first settled');
    per.remember(context, second, 'second settled');
    expect([per.of(context, first), per.of(context, second), per.of(context, sameOperationNewVariables)]).toEqual(['first settled', 'second settled', 'A#2']);
    expect(made).toHaveLength(3);
  });

  it('one variables object shared by two contexts (an executor that reuses it) keeps them apart', () => {
    const { per } = counting();
    const variables = {};
    const op = operation('query A { a }');
    const one = {};
    const two = Object.freeze({});
    expect(per.of(one, infoOf(op, variables))).toBe('A#0');
    expect(per.of(two, infoOf(op, variables))).toBe('A#1');
    expect(per.of(one, infoOf(op, variables))).toBe('A#0');
    expect(per.of(two, infoOf(op, variables))).toBe('A#1');
  });

  it('a frozen context is served too, one value per execution', () => {
    const { per, made } = counting();
    const context = Object.freeze({ auth: 'x' });
    const a = infoOf(operation('query A { a }'));
    const b = infoOf(operation('query B { b }'));
    expect([per.of(context, a), per.of(context, a), per.of(context, b), per.of(context, b)]).toEqual(['A#0', 'A#0', 'B#1', 'B#1']);
    per.remember(context, a, 'settled');
    expect(per.of(context, a)).toBe('settled');
    expect(made).toHaveLength(2);
  });

  it('two instances on one context do not see each other’s values', () => {
    const context = {};
    const info = infoOf(operation('query A { a }'));
    const left = new PerExecution<string>(() => 'left');
    const right = new PerExecution<string>(() => 'right');
    expect([left.of(context, info), right.of(context, info), left.of(context, info)]).toEqual(['left', 'right', 'left']);
  });
});
