/**
 * docs/API.md is the API reference of every public export, generated from the sources' declarations
 * and JSDoc (test/docs/api-reference.ts). It must be exactly what the sources render today, so a
 * changed signature or comment cannot leave the reference behind.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { API_MD, ENTRIES, renderApiReference } from './api-reference.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('docs/API.md', () => {
  const rendered = renderApiReference();
  const written = readFileSync(API_MD, 'utf8');

  it('is up to date with the sources (run `npm run docs:api` when this fails)', () => {
    // Compared line by line, so a failure shows where the reference is stale.
    expect(written.split('\n')).toEqual(rendered.split('\n'));
  });

  it('has a section for every export of every entry point', () => {
    const program = ts.createProgram(
      ENTRIES.map((entry) => join(root, entry.file)),
      { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, skipLibCheck: true, noEmit: true },
    );
    const checker = program.getTypeChecker();
    const missing: string[] = [];
    let count = 0;
    for (const entry of ENTRIES) {
      const file = program.getSourceFile(join(root, entry.file));
      const moduleSymbol = file && checker.getSymbolAtLocation(file);
      expect(moduleSymbol, entry.file).toBeDefined();
      expect(written).toContain(`## \`${entry.specifier}\``);
      for (const exported of checker.getExportsOfModule(moduleSymbol as ts.Symbol)) {
        count += 1;
        if (!written.includes(`\n### \`${exported.name}\`\n`)) missing.push(`${entry.specifier}: ${exported.name}`);
      }
    }
    expect(missing).toEqual([]);
    expect(count).toBeGreaterThan(60);
  });
});
