/**
 * Every code block in README.md is type-checked or executed, and its tables are checked against the
 * sources, so the README cannot rot. The conventions are in readme-blocks.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildASTSchema, Kind, parse, validate, type DocumentNode } from 'graphql';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { clerkDirectiveTransformer, clerkDirectiveTypeDefs } from 'clerk-api-auth/graphql';
import { typeDefs as referenceTypeDefs } from '../../examples/graphql-yoga/schema.js';
import { blockFileName, codeBlocks, section, shellCommands, type CodeBlock } from './readme-blocks.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = codeBlocks(readme);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  scripts: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};
const envExample = readFileSync(join(root, '.env.example'), 'utf8');
const envNames = new Set([...envExample.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1] as string));

const CHECKED = new Set(['ts', 'sh', 'graphql', 'dotenv']);
const byLang = (lang: string) => blocks.filter((block) => block.lang === lang);
const at = (block: CodeBlock) => `README.md:${block.line}`;

// ── ts blocks: one strict program over all of them, as files of one virtual project ─────────────

/** Where the blocks live, virtually: inside the repository (so node_modules resolves), never on disk. */
const virtualRoot = join(root, '.readme-blocks');
const tsBlocks = byLang('ts').map((block) => ({ block, file: join(virtualRoot, blockFileName(block) ?? `block-line-${block.line}.ts`) }));

function typeCheck(): Map<string, string[]> {
  const files = new Map(tsBlocks.map(({ block, file }) => [file, block.code]));
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    moduleDetection: ts.ModuleDetectionKind.Force,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
    types: ['node'],
    strict: true,
    noUncheckedIndexedAccess: true,
    noImplicitOverride: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    skipLibCheck: true,
    noEmit: true,
    paths: {
      'clerk-api-auth': [join(root, 'src/index.ts')],
      'clerk-api-auth/*': [join(root, 'src/*/index.ts')],
      '@/*': [join(virtualRoot, '*')],
    },
  };
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getCurrentDirectory = () => root;
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const text = files.get(resolve(fileName));
    return text === undefined ? getSourceFile(fileName, languageVersion, onError, shouldCreate) : ts.createSourceFile(fileName, text, languageVersion, true);
  };
  host.fileExists = (fileName) => files.has(resolve(fileName)) || ts.sys.fileExists(fileName);
  host.readFile = (fileName) => files.get(resolve(fileName)) ?? ts.sys.readFile(fileName);
  host.directoryExists = (name) => {
    const dir = resolve(name);
    return [...files.keys()].some((file) => file.startsWith(`${dir}/`)) || ts.sys.directoryExists(name);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  const problems = new Map<string, string[]>(tsBlocks.map(({ file }) => [file, []]));
  const global: string[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const file = diagnostic.file ? resolve(diagnostic.file.fileName) : undefined;
    const entry = file === undefined ? undefined : tsBlocks.find((candidate) => candidate.file === file);
    if (entry === undefined || diagnostic.file === undefined) {
      global.push(`${diagnostic.file?.fileName ?? '(options)'}: ${message}`);
      continue;
    }
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    problems.get(entry.file)?.push(`README.md:${entry.block.line + line}: TS${diagnostic.code}: ${message}`);
  }
  if (global.length > 0) problems.set('(outside README blocks)', global);
  return problems;
}

/** The `/* GraphQL *\/` SDL of a ts block, with `${clerkDirectiveTypeDefs}` substituted. */
function embeddedSdl(code: string): string[] {
  return [...code.matchAll(/\/\* GraphQL \*\/\s*`([^`]*)`/g)].map((match) => {
    const body = (match[1] ?? '').replaceAll('${clerkDirectiveTypeDefs}', clerkDirectiveTypeDefs);
    if (body.includes('${')) throw new Error('only ${clerkDirectiveTypeDefs} may be interpolated into README GraphQL');
    return body;
  });
}

/** Builds type definitions the way the README tells users to: with the directive SDL first, rules compiled. */
function buildSdl(sdl: string): void {
  const withDirectives = sdl.includes('directive @auth') ? sdl : `${clerkDirectiveTypeDefs}\n${sdl}`;
  // Throws on invalid SDL, an invalid schema, or a malformed directive use.
  clerkDirectiveTransformer(buildASTSchema(parse(withDirectives)));
}

const referenceSchema = buildASTSchema(parse(`${clerkDirectiveTypeDefs}\n${referenceTypeDefs}`));

function isTypeSystem(document: DocumentNode): boolean {
  return document.definitions.every((definition) => definition.kind !== Kind.OPERATION_DEFINITION && definition.kind !== Kind.FRAGMENT_DEFINITION);
}

// ── sh blocks ───────────────────────────────────────────────────────────────────────────────────

const knownPackages = new Set([pkg.name, ...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]);

/** Why a shell command cannot be run as written, or null. */
function shellProblem(words: string[]): string | null {
  const [command, ...args] = words;
  const flagless = args.filter((arg) => !arg.startsWith('-'));
  switch (command) {
    case 'npm': {
      const [sub, ...rest] = flagless;
      if (sub === 'ci' || sub === 'test') return rest.length === 0 ? null : `npm ${sub} takes no arguments here`;
      if (sub === 'run') return rest[0] !== undefined && rest[0] in pkg.scripts ? null : `no npm script ${JSON.stringify(rest[0])}`;
      if (sub === 'install' || sub === 'i' || sub === 'add') {
        const unknown = rest.filter((name) => !knownPackages.has(name));
        return rest.length > 0 && unknown.length === 0 ? null : `not a dependency of this package: ${unknown.join(', ')}`;
      }
      return `npm ${sub ?? ''} is not a command the README test can check`;
    }
    case 'npx': {
      if (flagless[0] !== 'tsx') return 'only `npx tsx` is checked';
      const envFile = args.find((arg) => arg.startsWith('--env-file='))?.slice('--env-file='.length);
      if (envFile !== undefined && envFile !== '.env' && !existsSync(join(root, envFile))) return `no file ${envFile}`;
      const file = flagless[1];
      return file !== undefined && existsSync(join(root, file)) ? null : `no file ${String(file)}`;
    }
    case 'cp':
      return flagless[0] !== undefined && existsSync(join(root, flagless[0])) ? null : `no file ${String(flagless[0])}`;
    default:
      return `${String(command)} is not a command the README test can check`;
  }
}

// ── executing *.test.ts blocks ──────────────────────────────────────────────────────────────────

function runVitest(dir: string): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('VITEST') && !name.startsWith('CLERK_') && name !== 'NODE_OPTIONS' && name !== 'TEST') env[name] = value;
  }
  env.NO_COLOR = '1';
  env.CLERK_TELEMETRY_DISABLED = '1';
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--root', dir, '--config', join(dir, 'vitest.config.mts')], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolvePromise({ code, output }));
  });
}

function vitestConfig(dir: string): string {
  const src = (path: string) => JSON.stringify(join(root, 'src', path));
  return `import { defineConfig } from 'vitest/config';
export default defineConfig({
  resolve: {
    alias: [
      { find: /^clerk-api-auth$/, replacement: ${src('index.ts')} },
      { find: /^clerk-api-auth\\/(trpc|graphql|testing|client)$/, replacement: ${src('$1/index.ts')} },
      { find: /^@\\/(.*)$/, replacement: ${JSON.stringify(`${dir}/$1`)} },
    ],
  },
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**'],
    setupFiles: [${JSON.stringify(join(root, 'test/setup/loopback-only.ts'))}],
    server: { deps: { inline: [/[\\\\/]node_modules[\\\\/](graphql-yoga|graphql-ws|@graphql-tools|@envelop|@graphql-yoga)[\\\\/]/] } },
    testTimeout: 20000,
  },
});
`;
}

// ── the tests ───────────────────────────────────────────────────────────────────────────────────

describe('README.md', () => {
  it('opens with npm install: the package and every package a ts block imports', () => {
    const first = blocks[0];
    expect(first?.lang).toBe('sh');
    const commands = shellCommands(first?.code ?? '');
    expect(commands.length).toBeGreaterThan(3);
    expect(commands.every((words) => words[0] === 'npm' && words[1] === 'install'), first?.code).toBe(true);
    const installed = new Set(commands.flatMap((words) => words.slice(2).filter((word) => !word.startsWith('-'))));
    expect(installed.has(pkg.name)).toBe(true);
    const imported = new Set(
      tsBlocks.flatMap(({ block }) =>
        [...block.code.matchAll(/\bfrom '([^'.][^']*)'/g)]
          .map((match) => /^(@[^/]+\/[^/]+|[^/]+)/.exec(match[1] as string)?.[1] as string)
          .filter((name) => !name.startsWith('node:') && name !== '@'),
      ),
    );
    expect(imported.size).toBeGreaterThan(10);
    expect([...imported].filter((name) => !installed.has(name))).toEqual([]);
    // The contributor commands live in CONTRIBUTING.md, not in the opening.
    expect(first?.code).not.toMatch(/npm (ci|test|run)/);
  });

  it('has only code blocks that a test checks', () => {
    const unchecked = blocks.filter((block) => !CHECKED.has(block.lang)).map((block) => `${at(block)}: \`\`\`${block.lang || '(no language)'}`);
    expect(unchecked).toEqual([]);
    expect(blocks.length).toBeGreaterThan(10);
  });

  it('names each ts block file at most once', () => {
    const names = tsBlocks.map(({ file }) => file);
    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
  });

  describe('ts blocks type-check together, in strict mode, against the sources', () => {
    const problems = typeCheck();
    it('(nothing outside the blocks fails)', () => {
      expect(problems.get('(outside README blocks)') ?? []).toEqual([]);
    });
    it.each(tsBlocks.map(({ block, file }) => [`${at(block)} ${blockFileName(block) ?? ''}`.trim(), file] as const))('%s', (_name, file) => {
      expect(problems.get(file)).toEqual([]);
    });
  });

  it('GraphQL in ts blocks builds with the directive definitions', () => {
    const built: string[] = [];
    for (const { block } of tsBlocks) {
      for (const sdl of embeddedSdl(block.code)) {
        expect(() => buildSdl(sdl), at(block)).not.toThrow();
        built.push(at(block));
      }
    }
    expect(built.length).toBeGreaterThan(0);
  });

  it('graphql blocks build (type definitions) or validate against the reference schema (operations)', () => {
    for (const block of byLang('graphql')) {
      const document = parse(block.code);
      if (isTypeSystem(document)) expect(() => buildSdl(block.code), at(block)).not.toThrow();
      else expect(validate(referenceSchema, document).map((error) => error.message), at(block)).toEqual([]);
    }
  });

  it('sh blocks run only commands that exist: npm scripts, declared packages, files', () => {
    const problems: string[] = [];
    for (const block of byLang('sh')) {
      for (const words of shellCommands(block.code)) {
        const problem = shellProblem(words);
        if (problem !== null) problems.push(`${at(block)}: ${words.join(' ')}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('dotenv blocks name variables of .env.example, with placeholder values only', () => {
    for (const block of byLang('dotenv')) {
      for (const line of block.code.split('\n').filter((text) => text.trim() !== '' && !text.startsWith('#'))) {
        const [name, value = ''] = line.split(/=(.*)/s);
        expect(envNames.has(name ?? ''), `${at(block)}: ${name}`).toBe(true);
        expect(value, `${at(block)}: ${name}`).not.toMatch(/(sk|pk)_(test|live)_[A-Za-z0-9]{30,}|whsec_[A-Za-z0-9+/]{20,}/);
      }
    }
  });

  it('executes the *.test.ts blocks (offline, with the blocks they import)', async () => {
    const tests = tsBlocks.filter(({ block }) => blockFileName(block)?.endsWith('.test.ts'));
    expect(tests.length).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), 'clerk-api-auth-readme-'));
    try {
      for (const { block, file } of tsBlocks) {
        const target = join(dir, file.slice(virtualRoot.length + 1));
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, block.code);
      }
      symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
      writeFileSync(join(dir, 'vitest.config.mts'), vitestConfig(dir));
      const { code, output } = await runVitest(dir);
      expect(code, output).toBe(0);
      const written = tests.reduce((count, { block }) => count + [...block.code.matchAll(/^\s*it\(/gm)].length, 0);
      expect(/Tests\s+(\d+) passed \((\d+)\)/.exec(output)?.slice(1).map(Number), output).toEqual([written, written]);
      expect(output).not.toMatch(/skipped|todo/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('README tables match the sources', () => {
  it('the options table lists every ClerkAuthOptions property and every environment variable the core reads', () => {
    const table = section(readme, '### Options and environment');
    const program = ts.createProgram([join(root, 'src/core/types.ts')], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      skipLibCheck: true,
      noEmit: true,
    });
    const checker = program.getTypeChecker();
    const file = program.getSourceFile(join(root, 'src/core/types.ts'));
    const moduleSymbol = file && checker.getSymbolAtLocation(file);
    const options = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((symbol) => symbol.name === 'ClerkAuthOptions');
    expect(options).toBeDefined();
    const names = checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(options as ts.Symbol)).map((property) => property.name);
    expect(names.length).toBeGreaterThan(15);
    expect(names.filter((name) => !table.includes(`\`${name}\``))).toEqual([]);

    const envVars = new Set([...readFileSync(join(root, 'src/core/options.ts'), 'utf8').matchAll(/CLERK_[A-Z_]+/g)].map((match) => match[0]));
    expect([...envVars].filter((name) => !table.includes(`\`${name}\``))).toEqual([]);
    // .env.example and the README agree on the variables.
    expect([...envNames].filter((name) => !readme.includes(name))).toEqual([]);
  });

  it('the errors table lists every ClerkAuthErrorCode', () => {
    const source = readFileSync(join(root, 'src/core/errors.ts'), 'utf8');
    const union = /export type ClerkAuthErrorCode =([^;]+);/.exec(source)?.[1] ?? '';
    const codes = [...union.matchAll(/'([A-Z_]+)'/g)].map((match) => match[1] as string);
    expect(codes.length).toBeGreaterThanOrEqual(5);
    const table = section(readme, '## Errors and status codes');
    expect(codes.filter((code) => !table.includes(`| \`${code}\` |`))).toEqual([]);
  });

  it('every relative link points to a file that exists', () => {
    const links = [...readme.matchAll(/\]\((?!https?:|#)([^)#]+)(#[^)]*)?\)/g)].map((match) => match[1] as string);
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((link) => !existsSync(join(root, link)))).toEqual([]);
  });

  it('every in-page link points to a heading', () => {
    const slug = (heading: string) =>
      heading
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-');
    const anchors = new Set([...readme.matchAll(/^#{1,6} (.+)$/gm)].map((match) => slug(match[1] as string)));
    const links = [...readme.matchAll(/\]\(#([^)]+)\)/g)].map((match) => match[1] as string);
    expect(links.filter((link) => !anchors.has(link))).toEqual([]);
  });
});
