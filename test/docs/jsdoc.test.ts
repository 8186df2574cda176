import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Every public export (every name reachable from a package entry point) carries JSDoc with an
 * `@example`. Re-exported types from @clerk/backend are documented there and are exempt.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const entries = ['src/index.ts', 'src/trpc/index.ts', 'src/graphql/index.ts', 'src/apollo/index.ts', 'src/mercurius/index.ts', 'src/pothos/index.ts', 'src/testing/index.ts', 'src/client/index.ts', 'src/redis/index.ts', 'src/webhooks/index.ts'];

const program = ts.createProgram(
  entries.map((e) => root + e),
  { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, skipLibCheck: true, noEmit: true },
);
const checker = program.getTypeChecker();

function undocumented(entry: string): string[] {
  const file = program.getSourceFile(root + entry);
  if (!file) throw new Error(`missing ${entry}`);
  const moduleSymbol = checker.getSymbolAtLocation(file);
  if (!moduleSymbol) return [];
  const missing: string[] = [];
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const declaration = symbol.declarations?.[0];
    if (!declaration) continue;
    const fileName = declaration.getSourceFile().fileName;
    if (fileName.includes('node_modules')) continue;
    const tags = symbol.getJsDocTags(checker);
    const docs = ts.displayPartsToString(symbol.getDocumentationComment(checker));
    if (!docs.trim() || !tags.some((tag) => tag.name === 'example')) missing.push(`${entry}: ${exported.name}`);
  }
  return missing;
}

describe('public API documentation', () => {
  it.each(entries)('%s: every export has JSDoc with an @example', (entry) => {
    expect(undocumented(entry)).toEqual([]);
  });
});
