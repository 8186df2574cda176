/**
 * `.env.example` holds placeholders only and documents every variable the code reads; `.env*` files
 * are git-ignored except the example; and no file of the repository holds a real-looking Clerk key.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const example = readFileSync(join(root, '.env.example'), 'utf8');
const assignments = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((match) => ({ name: match[1] as string, value: match[2] as string }));
/** A Clerk secret or publishable key with a real-looking body, or a webhook secret with one. */
const REAL_LOOKING = /\b(?:sk|pk)_(?:test|live)_[A-Za-z0-9]{30,}|\bwhsec_[A-Za-z0-9+/]{24,}/;

describe('.env.example', () => {
  it('has placeholders only: every value empty', () => {
    expect(assignments.length).toBeGreaterThan(5);
    expect(assignments.filter(({ value }) => value.trim() !== '')).toEqual([]);
    expect(example).not.toMatch(REAL_LOOKING);
  });

  it('names every CLERK_* variable the core, the integrations and the examples read', () => {
    const named = new Set(assignments.map(({ name }) => name));
    const sources = ['src/core/options.ts', 'examples/shared/clerk.ts', 'examples/express/server.ts'];
    const read = new Set(sources.flatMap((file) => [...readFileSync(join(root, file), 'utf8').matchAll(/\bCLERK_[A-Z_]+\b/g)].map((match) => match[0])));
    read.delete('CLERK_TELEMETRY_DISABLED');
    expect([...read].filter((name) => !named.has(name))).toEqual([]);
  });
});

describe('git', () => {
  const ignored = (path: string): boolean => spawnSync('git', ['check-ignore', '--no-index', '-q', path], { cwd: root }).status === 0;

  it('ignores .env files, except .env.example', () => {
    for (const path of ['.env', '.env.local', '.env.production', '.env.development.local', 'examples/express/.env']) expect(ignored(path), path).toBe(true);
    expect(ignored('.env.example')).toBe(false);
  });

  it('holds no real-looking Clerk key in any file', () => {
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' })
      .split('\0')
      .filter((file) => file !== '' && !file.endsWith('package-lock.json'));
    expect(files.length).toBeGreaterThan(50);
    const offenders: string[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(join(root, file), 'utf8');
      } catch {
        continue; // deleted in the working tree
      }
      if (REAL_LOOKING.test(text)) offenders.push(file);
    }
    expect(offenders).toEqual([]);
  });
});
