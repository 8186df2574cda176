/**
 * README.md, ARCHITECTURE.md and docs/*.md ship in the package (package.json "files"), so a relative link
 * in them must point at a file of the tarball (`npm pack --dry-run --json`); anything else is linked
 * by its repository URL (package.json "repository"), which must name a file of this repository.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { repository?: { type?: string; url?: string } };
const repositoryUrl = (pkg.repository?.url ?? '').replace(/^git\+/, '').replace(/\.git$/, '');
const blobPrefix = `${repositoryUrl}/blob/main/`;

/** The files `npm pack` would put in the tarball (paths relative to the package root). */
function tarballFiles(): Set<string> {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [result] = JSON.parse(out) as [{ files: { path: string }[] }];
  return new Set(result.files.map((file) => file.path));
}

/** Every link of a Markdown file that breaks once the file is installed from the tarball, or online. */
export function brokenLinks(markdown: string, file: string, shipped: ReadonlySet<string>, existsInRepo: (path: string) => boolean): string[] {
  const broken: string[] = [];
  for (const match of markdown.matchAll(/\]\(<?([^)\s>]+)>?(?:\s+"[^"]*")?\)/g)) {
    const target = (match[1] as string).split('#')[0] as string;
    if (target === '' || /^mailto:/.test(target)) continue;
    if (/^https?:/.test(target)) {
      if (target.startsWith(blobPrefix) && !existsInRepo(target.slice(blobPrefix.length))) broken.push(`${file}: ${target} (no such file in the repository)`);
      continue;
    }
    const path = normalize(join(dirname(file), target)).replace(/\/$/, '');
    const inTarball = shipped.has(path) || [...shipped].some((name) => name.startsWith(`${path}/`));
    if (!inTarball) broken.push(`${file}: ${target} (not in the published package; link ${blobPrefix}${path} instead)`);
  }
  return broken;
}

const documents = ['README.md', 'ARCHITECTURE.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
const inRepo = (path: string) => existsSync(join(root, path));

describe('links in the shipped Markdown', () => {
  const shipped = tarballFiles();

  it('package.json names the repository', () => {
    expect(pkg.repository).toEqual({ type: 'git', url: 'git+https://github.com/clerk-api-auth/clerk-api-auth.git' });
  });

  it('the tarball holds the documents', () => {
    expect(documents.filter((name) => !shipped.has(name))).toEqual([]);
    expect([...shipped].some((name) => name.startsWith('test/') || name.startsWith('src/'))).toBe(false);
  });

  it.each(documents)('%s links only to shipped files or to repository URLs of existing files', (name) => {
    expect(brokenLinks(readFileSync(join(root, name), 'utf8'), name, shipped, inRepo)).toEqual([]);
  });

  it('the check fails on a relative link to a file outside the tarball, and on a repository URL of a missing file', () => {
    const markdown = ['[ok](docs/API.md)', '[ok](#install)', '[bad](test/docs/readme.test.ts)', '[bad](BENCHMARKS.md)', `[ok](${blobPrefix}BENCHMARKS.md)`, `[bad](${blobPrefix}NOPE.md)`].join('\n');
    expect(brokenLinks(markdown, 'README.md', shipped, inRepo)).toEqual([
      `README.md: test/docs/readme.test.ts (not in the published package; link ${blobPrefix}test/docs/readme.test.ts instead)`,
      `README.md: BENCHMARKS.md (not in the published package; link ${blobPrefix}BENCHMARKS.md instead)`,
      `README.md: ${blobPrefix}NOPE.md (no such file in the repository)`,
    ]);
    // From docs/, ../README.md is the shipped README; ../src/… is not shipped.
    expect(brokenLinks('[r](../README.md) [s](../src/index.ts)', 'docs/API.md', shipped, inRepo)).toEqual([`docs/API.md: ../src/index.ts (not in the published package; link ${blobPrefix}src/index.ts instead)`]);
  });
});
