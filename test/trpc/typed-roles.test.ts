/**
 * Typed roles and permissions: an app that declares Clerk's `ClerkAuthorization` gets compile errors
 * for mistyped roles and permissions in every requirement, and the app's types on `ctx.auth`.
 * test/typed-roles is a TypeScript program of its own (the declaration is global, so it would
 * retype the main program): it must compile — its `@ts-expect-error` lines must each be an error —
 * and the same app with one mistyped role left unmarked must not.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsgo = join(root, 'node_modules/.bin/tsgo');

function compile(config: string): { status: number | null; output: string } {
  const result = spawnSync(tsgo, ['--noEmit', '-p', join(root, 'test/typed-roles', config)], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('typed roles and permissions (ClerkAuthorization)', () => {
  it('the app compiles: declared roles pass, and every mistyped role or permission marked @ts-expect-error is an error', () => {
    const { status, output } = compile('tsconfig.json');
    expect(output).toBe('');
    expect(status).toBe(0);
  }, 120_000);

  it("authorize({ role: 'org:admni' }) unmarked does not compile, and the compiler names the declared roles", () => {
    const { status, output } = compile('tsconfig.mistake.json');
    expect(status).not.toBe(0);
    expect(output).toContain('test/typed-roles/mistake.ts(6,');
    expect(output).toMatch(/TS2322: Type '"org:admni"' is not assignable to type .*"org:admin" \| "org:member"/);
    expect(output.trim().split('\n')).toHaveLength(1);
  }, 120_000);
});
