/**
 * The folders are the architecture: `src/core` owns every rule and imports nothing from the
 * integrations; every other folder reaches the core through its one internal barrel
 * (`src/core/internal.ts`), so no integration grows its own copy of a core rule by importing a core
 * module's private helpers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', 'src');

function sourcesOf(folder: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(root, folder), { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) files.push(...sourcesOf(path));
    else if (entry.name.endsWith('.ts')) files.push(path);
  }
  return files;
}

/** Every module specifier a file imports or re-exports (static and dynamic). */
function importsOf(file: string): string[] {
  // Comments hold examples that import the package by name; only code counts.
  const text = readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specifiers: string[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]/g)) specifiers.push(match[1] as string);
  for (const match of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) specifiers.push(match[1] as string);
  return specifiers;
}

describe('architecture', () => {
  it('src/core imports nothing from the integrations, the test kit, the client, the Redis store or the webhooks', () => {
    const offenders = sourcesOf('core').flatMap((file) =>
      importsOf(file)
        .filter((specifier) => /^\.\.\/(trpc|graphql|apollo|mercurius|pothos|testing|client|redis|webhooks)\//.test(specifier) || specifier.startsWith('clerk-api-auth'))
        .map((specifier) => `${file} → ${specifier}`),
    );
    expect(offenders).toEqual([]);
  });

  it('every other folder reaches the core only through src/core/internal.ts', () => {
    const offenders: string[] = [];
    for (const folder of ['trpc', 'graphql', 'apollo', 'mercurius', 'pothos', 'testing', 'client', 'redis', 'webhooks']) {
      for (const file of sourcesOf(folder)) {
        for (const specifier of importsOf(file)) {
          if (/^(\.\.\/)+core\//.test(specifier) && !/^(\.\.\/)+core\/internal\.js$/.test(specifier)) offenders.push(`${file} → ${specifier}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('integrations do not import each other', () => {
    const offenders: string[] = [];
    // The Mercurius and Pothos glue build on the GraphQL glue (its one decision path); nothing builds on them.
    for (const [folder, others] of [
      ['trpc', /^\.\.\/(graphql|apollo|mercurius|pothos|testing|client|redis|webhooks)\//],
      // The Apollo Server, Mercurius and Pothos entries are glue on top of the GraphQL glue (the same plan, errors and rules); never the reverse.
      ['graphql', /^\.\.\/(trpc|apollo|mercurius|pothos|testing|client|redis|webhooks)\//],
      ['apollo', /^\.\.\/(trpc|mercurius|pothos|testing|client|redis|webhooks)\//],
      ['mercurius', /^\.\.\/(trpc|apollo|pothos|testing|client|redis|webhooks)\//],
      ['pothos', /^\.\.\/(trpc|apollo|mercurius|testing|client|redis|webhooks)\//],
      ['client', /^\.\.\/(trpc|graphql|apollo|mercurius|pothos|testing|redis|webhooks)\//],
      ['redis', /^\.\.\/(trpc|graphql|apollo|mercurius|pothos|testing|client|webhooks)\//],
      ['webhooks', /^\.\.\/(trpc|graphql|apollo|mercurius|pothos|testing|client|redis)\//],
    ] as const) {
      for (const file of sourcesOf(folder)) for (const specifier of importsOf(file)) if (others.test(specifier)) offenders.push(`${file} → ${specifier}`);
    }
    expect(offenders).toEqual([]);
  });

  it('only src/redis imports the Redis client (an optional peer: the core and every other entry load without it)', () => {
    const offenders: string[] = [];
    for (const folder of ['core', 'trpc', 'graphql', 'testing', 'client', 'webhooks']) {
      for (const file of sourcesOf(folder)) for (const specifier of importsOf(file)) if (/^(redis|@redis\/)/.test(specifier)) offenders.push(`${file} → ${specifier}`);
    }
    expect(offenders).toEqual([]);
    expect(sourcesOf('redis').some((file) => importsOf(file).includes('redis'))).toBe(true);
  });

  it('each server library is imported only by its own folder: /graphql never loads Mercurius, Fastify, Pothos, Apollo or Redis', () => {
    const owners: Record<string, readonly string[]> = {
      mercurius: ['mercurius'],
      fastify: ['mercurius', 'webhooks', 'trpc'],
      '@pothos/core': ['pothos'],
      'graphql-yoga': ['graphql'],
      '@apollo/server': ['apollo'],
      redis: ['redis'],
    };
    const offenders: string[] = [];
    for (const folder of ['core', 'trpc', 'graphql', 'apollo', 'mercurius', 'pothos', 'testing', 'client', 'redis', 'webhooks']) {
      for (const file of sourcesOf(folder)) {
        for (const specifier of importsOf(file)) {
          const owner = owners[specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] ?? '')];
          if (owner !== undefined && !owner.includes(folder)) offenders.push(`${file} → ${specifier}`);
        }
      }
    }
    expect(offenders).toEqual([]);
    expect(sourcesOf('mercurius').some((file) => importsOf(file).includes('mercurius'))).toBe(true);
    expect(sourcesOf('pothos').some((file) => importsOf(file).includes('@pothos/core'))).toBe(true);
  });

  it('the internal barrel says it is not public and is not a package export', () => {
    expect(readFileSync(join(root, 'core', 'internal.ts'), 'utf8')).toMatch(/NOT PUBLIC/);
    const pkg = JSON.parse(readFileSync(join(root, '..', 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    expect(Object.keys(pkg.exports).some((key) => key.includes('internal'))).toBe(false);
    expect(relative(root, join(root, 'core', 'internal.ts'))).toBe(join('core', 'internal.ts'));
  });
});
