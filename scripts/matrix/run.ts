/**
 * The compatibility matrix: `npm run test:matrix`.
 *
 * Everything it installs goes into one throwaway directory (with one npm cache) and comes from the
 * npm registry; nothing reaches any other host, and the repository's own node_modules is never
 * changed (version legs work on copies of the repository).
 *
 * - package: build, `npm pack`;
 * - consumers: the tarball installed into fresh projects, compiled with the repo's tsc and run on Node:
 *   TypeScript ESM (`node16`, `bundler`), TypeScript CommonJS, plain `require`, GraphQL-only (no
 *   @trpc/server) and tRPC-only (no graphql);
 * - runtimes: the full vitest suite on the host Node and on Node 24 (`node@24` from npm); the smoke
 *   suite (test/smoke) against the packed package on Node 20/24, Bun, Deno and workerd (Miniflare),
 *   the latter with and without `nodejs_compat`;
 * - Next.js: a minimal app (`next`, `react`, `react-dom` from npm, the packed package) with an App
 *   Router route handler (fetch adapter) and a Pages Router API route (`createNextApiHandler`), built
 *   with `next build` (which type-checks both) and served with `next start` on a loopback port;
 * - versions: for every range package.json claims (graphql 16 and 17, graphql-yoga, @graphql-tools/utils, @apollo/server,
 *   @trpc/server, @clerk/backend), the lowest and latest published version within it, with the suites
 *   that exercise it (in a copy of the repository when the lockfile has another version). So the
 *   claim is what is tested: narrowing or widening a range in package.json changes what runs.
 *
 * Options:
 *   --only=prefix[,prefix]     run the legs whose id starts with one of these (and what they need)
 *   --list                     print the leg ids and exit
 *   --keep                     keep the temp directory (it is kept anyway when a leg fails)
 *   --trpc-lowest=VERSION      test this @trpc/server (+ @trpc/client) instead of the claimed minimum,
 *   --clerk-backend-lowest=VERSION   and this @clerk/backend: to find the lowest that passes
 *   --markdown=FILE            also write the table to FILE
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { installedVersion, npmEnv, project, REPO, run, StepError, table, tail, TOOLS, type Row, type RunOptions, type RunResult } from './lib.js';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    list: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'trpc-lowest': { type: 'string' },
    'clerk-backend-lowest': { type: 'string' },
    markdown: { type: 'string' },
  },
});

/** The Workers compatibility date of the workerd legs. */
const COMPATIBILITY_DATE = '2026-01-01';
/** Runtimes, by npm package and major: the newest release of each at the time of the run. */
const RUNTIMES = { node24: 'node@24', bun: 'bun@1', deno: 'deno@2', miniflare: 'miniflare@4' } as const;

interface PackageJson {
  version: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}
const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as PackageJson;

/** Versions the consumers and the smoke project install next to the tarball: the ones the repo develops with. */
const dev = (name: string): string => {
  const version = pkg.devDependencies[name];
  if (version === undefined) throw new Error(`${name} is not a devDependency`);
  return `${name}@${version}`;
};

// ---------------------------------------------------------------------------------------------------
// Legs

interface Step {
  /** This leg's id. */
  id: string;
  /** This leg's log file. */
  log: string;
  /** Sets the "runtime / versions" cell. */
  target(text: string): void;
  /** Runs a command, logging it. */
  sh(command: string, commandArgs: readonly string[], options: RunOptions): Promise<RunResult>;
}

interface Leg {
  id: string;
  name: string;
  needs?: string[];
  run(step: Step): Promise<void>;
}

const legs: Leg[] = [];
const leg = (definition: Leg): void => void legs.push(definition);
const memo = <T>(make: (step: Step) => Promise<T>): ((step: Step) => Promise<T>) => {
  let promise: Promise<T> | undefined;
  return (step) => (promise ??= make(step));
};

const npm = (step: Step, cwd: string, npmArgs: string[]) => step.sh('npm', npmArgs, { cwd, env: baseEnv });
const node = (step: Step, cwd: string, nodeArgs: string[], env: Record<string, string> = {}, timeoutMs?: number) =>
  step.sh(process.execPath, nodeArgs, { cwd, env: { ...baseEnv, ...env }, ...(timeoutMs !== undefined && { timeoutMs }) });

// --- package -----------------------------------------------------------------------------------------

let tarball = '';

leg({
  id: 'package',
  name: 'package: tsdown build, npm pack',
  async run(step) {
    step.target(`clerk-api-auth ${pkg.version}`);
    await npm(step, REPO, ['run', 'build']);
    const dir = join(root, 'pack');
    await mkdir(dir, { recursive: true });
    const { stdout } = await npm(step, REPO, ['pack', '--json', '--pack-destination', dir]);
    const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    if (packed === undefined) throw new StepError('npm pack reported no tarball');
    tarball = join(dir, packed.filename);
    const files = packed.files.map((file) => file.path);
    for (const entry of ['index', 'trpc', 'graphql', 'apollo', 'testing', 'client']) {
      for (const extension of ['mjs', 'cjs', 'd.mts', 'd.cts']) {
        if (!files.includes(`dist/${entry}.${extension}`)) throw new StepError(`the tarball lacks dist/${entry}.${extension}`);
      }
    }
    step.target(`clerk-api-auth ${pkg.version}, ${files.length} files`);
  },
});

// --- consumers ---------------------------------------------------------------------------------------

const fixture = (name: string) => readFile(join(REPO, 'scripts/matrix/fixtures', name), 'utf8');

interface Consumer {
  id: string;
  name: string;
  type: 'module' | 'commonjs';
  /** Installed next to the tarball (plus @types/node). */
  peers: string[];
  /** Must be absent from node_modules after the install. */
  absent: string[];
  source: { fixture: string; as: string };
  compilerOptions: Record<string, unknown>;
  /** The file Node runs, relative to the project. */
  main: string;
}

// `lib` DOM: @clerk/backend's own declarations name DOM types (JsonWebKey, RequestInfo), so its users need it.
const strict = { strict: true, skipLibCheck: true, types: ['node'], target: 'ES2022', lib: ['ES2022', 'DOM'], rootDir: 'src', outDir: 'out' };
const allPeers = [dev('@trpc/server'), dev('graphql'), dev('graphql-yoga')];

const consumers: Consumer[] = [
  {
    id: 'esm-node16',
    name: 'TypeScript ESM, moduleResolution node16',
    type: 'module',
    peers: allPeers,
    absent: [],
    source: { fixture: 'all-subpaths.ts', as: 'src/index.ts' },
    compilerOptions: { ...strict, module: 'node16', moduleResolution: 'node16' },
    main: 'out/index.js',
  },
  {
    id: 'esm-bundler',
    name: 'TypeScript ESM, moduleResolution bundler',
    type: 'module',
    peers: allPeers,
    absent: [],
    source: { fixture: 'all-subpaths.ts', as: 'src/index.ts' },
    compilerOptions: { ...strict, module: 'esnext', moduleResolution: 'bundler', verbatimModuleSyntax: true },
    main: 'out/index.js',
  },
  {
    id: 'cjs-ts',
    name: 'TypeScript CommonJS (node16, "type": "commonjs")',
    type: 'commonjs',
    peers: allPeers,
    absent: [],
    source: { fixture: 'all-subpaths.ts', as: 'src/index.ts' },
    compilerOptions: { ...strict, module: 'node16', moduleResolution: 'node16' },
    main: 'out/index.js',
  },
  {
    id: 'cjs-require',
    name: 'plain JavaScript require (checkJs)',
    type: 'commonjs',
    peers: allPeers,
    absent: [],
    source: { fixture: 'require.cjs', as: 'index.cjs' },
    compilerOptions: { ...strict, rootDir: '.', module: 'node16', moduleResolution: 'node16', allowJs: true, checkJs: true, noEmit: true },
    main: 'index.cjs',
  },
  {
    id: 'graphql-only',
    name: 'GraphQL only: ESM, without @trpc/server',
    type: 'module',
    peers: [dev('graphql'), dev('graphql-yoga')],
    absent: ['@trpc/server', '@trpc/client'],
    source: { fixture: 'graphql-only.ts', as: 'src/index.ts' },
    compilerOptions: { ...strict, module: 'node16', moduleResolution: 'node16' },
    main: 'out/index.js',
  },
  {
    id: 'trpc-only',
    name: 'tRPC only: CommonJS, without graphql',
    type: 'commonjs',
    peers: [dev('@trpc/server')],
    absent: ['graphql', 'graphql-yoga', '@graphql-tools/utils'],
    source: { fixture: 'trpc-only.ts', as: 'src/index.ts' },
    compilerOptions: { ...strict, module: 'node16', moduleResolution: 'node16' },
    main: 'out/index.js',
  },
];

/**
 * tsc again with `skipLibCheck: false`: no error may sit in the consumer's code or in clerk-api-auth's
 * declarations (an unresolvable import there would otherwise pass silently as `any`). Errors inside
 * other packages' declarations are theirs, counted in the log.
 */
async function declarationsCheck(step: Step, dir: string): Promise<void> {
  const { stdout } = await step.sh(process.execPath, [TOOLS.tsc, '-p', 'tsconfig.json', '--noEmit', '--skipLibCheck', 'false', '--pretty', 'false'], {
    cwd: dir,
    env: baseEnv,
    allowFailure: true,
  });
  const files = [...stdout.matchAll(/^(.+?)\(\d+,\d+\): error TS\d+/gm)].map((match) => match[1] ?? '');
  const ours = files.filter((file) => !file.startsWith('node_modules/') || file.startsWith('node_modules/clerk-api-auth/'));
  if (ours.length > 0) throw new StepError(`skipLibCheck false: ${ours.length} errors in ${[...new Set(ours)].join(', ')}`);
  await writeFile(step.log, `[declarations] clerk-api-auth and the consumer: 0 errors; other packages' declarations: ${files.length}\n`, { flag: 'a' });
}

for (const consumer of consumers) {
  leg({
    id: `consumer:${consumer.id}`,
    name: `consumer: ${consumer.name}`,
    needs: ['package'],
    async run(step) {
      const dir = join(root, 'consumers', consumer.id);
      await project(dir, { name: `consumer-${consumer.id}`, version: '0.0.0', type: consumer.type }, {
        [consumer.source.as]: await fixture(consumer.source.fixture),
        'tsconfig.json': `${JSON.stringify({ compilerOptions: consumer.compilerOptions, include: [consumer.source.as] }, null, 2)}\n`,
      });
      await npm(step, dir, ['install', tarball, ...consumer.peers, dev('@types/node')]);
      for (const name of consumer.absent) {
        if (existsSync(join(dir, 'node_modules', name))) throw new StepError(`${name} was installed, though nothing asked for it`);
      }
      await node(step, dir, [TOOLS.tsc, '-p', 'tsconfig.json']);
      await declarationsCheck(step, dir);
      const { stdout } = await node(step, dir, [consumer.main]);
      if (!stdout.includes('consumer ok')) throw new StepError('the consumer did not report success');
      const versions = await Promise.all(consumer.peers.map(async (spec) => `${spec.replace(/@[^@]*$/, '')} ${await installedVersion(dir, spec.replace(/@[^@]*$/, ''))}`));
      const absent = consumer.absent.length > 0 ? `; absent: ${consumer.absent.join(', ')}` : '';
      step.target(`node ${process.versions.node}, tsc ${await installedVersion(REPO, 'typescript')}; ${versions.join(', ')}${absent}`);
    },
  });
}

// --- runtimes ----------------------------------------------------------------------------------------

/** Installs a runtime package from npm into its own directory (once per run). */
const runtimes = new Map<string, (step: Step) => Promise<string>>();
function runtime(name: keyof typeof RUNTIMES): (step: Step) => Promise<string> {
  let install = runtimes.get(name);
  if (install === undefined) {
    install = memo(async (step) => {
      const dir = join(root, 'runtimes', name);
      await project(dir, { name: `runtime-${name}`, version: '0.0.0' });
      await npm(step, dir, ['install', RUNTIMES[name]]);
      return dir;
    });
    runtimes.set(name, install);
  }
  return install;
}

const node24 = async (step: Step): Promise<{ bin: string; version: string }> => {
  const dir = await runtime('node24')(step);
  const bin = join(dir, 'node_modules', 'node', 'bin');
  const { stdout } = await step.sh(join(bin, 'node'), ['--version'], { cwd: dir });
  return { bin, version: stdout.trim().replace(/^v/, '') };
};

/** vitest runs already made, by node binary, directory and arguments: an identical run is not repeated. */
const suiteRuns = new Map<string, { leg: string; done: Promise<void> }>();

/**
 * The vitest suite of this repository on a Node binary (its directory first on PATH, for child
 * processes too). Resolves with the id of an earlier leg when that leg already made this very run.
 */
async function vitestSuite(step: Step, cwd: string, nodeBin: string, vitestArgs: string[]): Promise<string | undefined> {
  const key = JSON.stringify([nodeBin, cwd, vitestArgs]);
  const earlier = suiteRuns.get(key);
  if (earlier !== undefined) {
    await earlier.done;
    return earlier.leg;
  }
  const done = (async () => {
    // The vitest of `cwd` (a repository copy has its own), so the config's `vitest/config` is the same instance.
    const { stdout } = await step.sh(join(nodeBin, 'node'), [join(cwd, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...vitestArgs], {
      cwd,
      env: { ...baseEnv, PATH: `${nodeBin}${delimiter}${process.env.PATH ?? ''}` },
      timeoutMs: 900_000,
    });
    if (!/Tests\s+(\d+) passed/.test(stdout)) throw new StepError('vitest reported no passing tests');
  })();
  suiteRuns.set(key, { leg: step.id, done });
  await done;
  return undefined;
}

leg({
  id: 'suite:node-host',
  name: 'full vitest suite',
  async run(step) {
    step.target(`node ${process.versions.node} (host)`);
    await vitestSuite(step, REPO, join(process.execPath, '..'), []);
  },
});

leg({
  id: 'suite:node24',
  name: 'full vitest suite',
  async run(step) {
    const { bin, version } = await node24(step);
    step.target(`node ${version} (npm node@24)`);
    await vitestSuite(step, REPO, bin, []);
  },
});

/** The smoke suite compiled against the packed package: test/smoke/*.ts → out/*.js, with web-only types. */
const smokeProject = memo(async (step: Step): Promise<string> => {
  const dir = join(root, 'smoke');
  const files: Record<string, string> = {};
  for (const name of ['smoke.ts', 'cli.ts', 'worker.ts', 'tsconfig.json']) files[name] = await readFile(join(REPO, 'test/smoke', name), 'utf8');
  await project(dir, { name: 'smoke', version: '0.0.0', type: 'module' }, files);
  await npm(step, dir, ['install', tarball, ...allPeers]);
  await node(step, dir, [TOOLS.tsc, '-p', 'tsconfig.json']);
  return dir;
});

const smokeVersions = async (dir: string): Promise<string> =>
  `graphql ${await installedVersion(dir, 'graphql')}, @trpc/server ${await installedVersion(dir, '@trpc/server')}, graphql-yoga ${await installedVersion(dir, 'graphql-yoga')}`;

/** Runs the compiled smoke CLI and checks its closing line. */
async function smoke(step: Step, dir: string, command: string, commandArgs: string[], env: Record<string, string> = {}): Promise<void> {
  const { stdout } = await step.sh(command, [...commandArgs, 'out/cli.js'], { cwd: dir, env: { ...baseEnv, ...env } });
  const closing = /^(\d+) passed, (\d+) failed$/m.exec(stdout);
  if (closing === null || closing[2] !== '0' || closing[1] === '0') throw new StepError(`smoke: ${closing?.[0] ?? 'no report'}`);
}

leg({
  id: 'smoke:node-host',
  name: 'smoke suite (packed package)',
  needs: ['package'],
  async run(step) {
    const dir = await smokeProject(step);
    step.target(`node ${process.versions.node} (host); ${await smokeVersions(dir)}`);
    await smoke(step, dir, process.execPath, []);
  },
});

leg({
  id: 'smoke:node24',
  name: 'smoke suite (packed package)',
  needs: ['package'],
  async run(step) {
    const dir = await smokeProject(step);
    const { bin, version } = await node24(step);
    step.target(`node ${version} (npm node@24)`);
    await smoke(step, dir, join(bin, 'node'), []);
  },
});

leg({
  id: 'smoke:bun',
  name: 'smoke suite (packed package)',
  needs: ['package'],
  async run(step) {
    const dir = await smokeProject(step);
    const bun = join(await runtime('bun')(step), 'node_modules', '.bin', 'bun');
    const { stdout } = await step.sh(bun, ['--version'], { cwd: dir });
    step.target(`bun ${stdout.trim()} (npm bun@1)`);
    await smoke(step, dir, bun, ['--no-install'], { BUN_INSTALL_CACHE_DIR: join(root, 'bun-cache') });
  },
});

leg({
  id: 'smoke:deno',
  name: 'smoke suite (packed package)',
  needs: ['package'],
  async run(step) {
    const dir = await smokeProject(step);
    const deno = join(await runtime('deno')(step), 'node_modules', '.bin', 'deno');
    const env = { DENO_DIR: join(root, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1' };
    const { stdout } = await step.sh(deno, ['--version'], { cwd: dir, env });
    step.target(`deno ${/deno (\S+)/.exec(stdout)?.[1] ?? '?'} (npm deno@2), no permission but --allow-env=NODE_ENV (read by graphql)`);
    await smoke(step, dir, deno, ['run', '--no-lock', '--no-prompt', '--allow-env=NODE_ENV'], env);
  },
});

/**
 * Bundles test/smoke/worker.ts (compiled) for workerd with esbuild, resolving packages as wrangler
 * does (browser field, `workerd`/`worker` conditions). Returns the bundle and the modules it still
 * imports (from esbuild's metafile).
 */
async function workerBundle(step: Step, dir: string, name: string, extra: string[]): Promise<{ file: string; imports: string[] }> {
  const file = join(dir, `${name}.mjs`);
  const metafile = join(dir, `${name}.meta.json`);
  // esbuild's bin is its native binary once installed: run it directly.
  await step.sh(
    TOOLS.esbuild,
    [
      'out/worker.js',
      '--bundle',
      '--format=esm',
      '--platform=browser',
      '--conditions=workerd,worker',
      '--target=es2022',
      '--log-level=warning',
      `--outfile=${file}`,
      `--metafile=${metafile}`,
      ...extra,
    ],
    { cwd: dir, env: baseEnv },
  );
  const meta = JSON.parse(await readFile(metafile, 'utf8')) as { outputs: Record<string, { imports: Array<{ path: string; external?: boolean }> }> };
  const imports = Object.values(meta.outputs).flatMap((output) => output.imports.filter((entry) => entry.external === true).map((entry) => entry.path));
  return { file, imports: [...new Set(imports)].sort() };
}

async function workerd(step: Step, nodejsCompat: boolean): Promise<void> {
  const dir = await smokeProject(step);
  const runner = await runtime('miniflare')(step);
  await copyFile(join(REPO, 'scripts/matrix/fixtures/miniflare-run.mjs'), join(runner, 'miniflare-run.mjs'));
  const bundle = nodejsCompat
    ? await workerBundle(step, dir, 'worker-nodejs-compat', ['--external:node:*'])
    : await workerBundle(step, dir, 'worker-web', [`--alias:node:http=${join(REPO, 'scripts/matrix/fixtures/node-http-unavailable.mjs')}`]);
  if (!nodejsCompat && bundle.imports.length > 0) throw new StepError(`the bundle still imports ${bundle.imports.join(', ')}`);
  const flags = nodejsCompat ? 'nodejs_compat' : '';
  step.target(
    `workerd ${await installedVersion(runner, 'workerd')} via miniflare ${await installedVersion(runner, 'miniflare')}, ` +
      (nodejsCompat
        ? `nodejs_compat (the bundle imports ${bundle.imports.join(', ') || 'no built-in'})`
        : 'no nodejs_compat (node:http, imported by startFakeClerkApi only, stubbed and never called)'),
  );
  const { stdout } = await node(step, runner, ['miniflare-run.mjs', bundle.file, COMPATIBILITY_DATE, flags]);
  const closing = /^(\d+) passed, (\d+) failed$/m.exec(stdout);
  if (closing === null || closing[2] !== '0') throw new StepError(`smoke: ${closing?.[0] ?? 'no report'}`);
}

leg({ id: 'smoke:workerd', name: 'smoke suite in a Worker', needs: ['package'], run: (step) => workerd(step, true) });
leg({ id: 'smoke:workerd-web', name: 'smoke suite in a Worker', needs: ['package'], run: (step) => workerd(step, false) });

// --- Next.js -----------------------------------------------------------------------------------------

/** What `create-next-app` installs today: the newest Next.js, React and React's types within these majors. */
const NEXT = ['next@16', 'react@19', 'react-dom@19', '@types/react@19'] as const;

/**
 * The Next.js app of scripts/matrix/fixtures/next-app, installed with the packed package and built
 * once for both legs. `next build` type-checks the routes against Next's, tRPC's and this package's
 * declarations, and loads the route modules: `createClerkContext()` runs then too, so the build gets a
 * key of its own (a throwaway one; `next start` reads its own environment).
 */
const nextApp = memo(async (step: Step): Promise<string> => {
  const dir = join(root, 'next-app');
  await project(dir, { name: 'matrix-next-app', version: '0.0.0' });
  await cp(join(REPO, 'scripts/matrix/fixtures/next-app'), dir, { recursive: true });
  await npm(step, dir, ['install', tarball, ...NEXT, dev('@trpc/server'), dev('typescript'), dev('@types/node')]);
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const buildKey = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await step.sh(process.execPath, ['node_modules/next/dist/bin/next', 'build'], {
    cwd: dir,
    env: { ...baseEnv, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production', CLERK_JWT_KEY: buildKey },
    timeoutMs: 240_000,
  });
  return dir;
});

const nextLegs = [
  { id: 'next:app-router', name: 'Next.js App Router: route handler with the fetch adapter', base: '/api/trpc' },
  { id: 'next:pages-router', name: 'Next.js Pages Router: createNextApiHandler', base: '/api/pages' },
] as const;

for (const { id, name, base } of nextLegs) {
  leg({
    id,
    name: `${name}; next build, next start`,
    needs: ['package'],
    async run(step) {
      const dir = await nextApp(step);
      const versions = await Promise.all(['next', 'react', '@trpc/server'].map(async (pkgName) => `${pkgName} ${await installedVersion(dir, pkgName)}`));
      step.target(`${versions.join(', ')}, node ${process.versions.node}; ${base}`);
      const { stdout } = await node(step, dir, ['probe.mjs', base], {}, 120_000);
      const closing = /^(\d+) passed, (\d+) failed$/m.exec(stdout);
      if (closing === null || closing[2] !== '0' || closing[1] === '0') throw new StepError(`probe: ${closing?.[0] ?? 'no report'}`);
    },
  });
}

// --- versions ----------------------------------------------------------------------------------------
//
// "Lowest" and "latest" are read from the ranges package.json claims, so the claim is what is tested:
// the first and last versions published within each `||` alternative (the first is the range's
// minimum when that was published: @graphql-tools/utils has no 13.0.0, so ^13.0.0 starts at 13.1.3).

/** The range package.json claims for `name` (dependencies or peerDependencies). */
function claimed(name: string): string {
  const range = pkg.dependencies[name] ?? pkg.peerDependencies[name];
  if (range === undefined) throw new Error(`package.json claims no ${name}`);
  return range;
}

/** The `||` alternatives of the claimed range of `name`. */
const alternatives = (name: string): string[] => claimed(name).split('||').map((alternative) => alternative.trim());

const byVersion = (a: string, b: string): number => {
  const [x, y] = [a, b].map((version) => version.split('.').map((part) => Number.parseInt(part, 10))) as [number[], number[]];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
};

/**
 * The versions within `range` that every one of `packages` has published, oldest first (@trpc/client
 * pins its @trpc/server peer to its own version, and not every server release has a client release).
 */
async function published(step: Step, packages: readonly string[], range: string): Promise<string[]> {
  let common: string[] | undefined;
  for (const name of packages) {
    const { stdout } = await npm(step, REPO, ['view', `${name}@${range}`, 'version', '--json']);
    const parsed = JSON.parse(stdout.trim() === '' ? '[]' : stdout) as string | string[];
    const versions = Array.isArray(parsed) ? parsed : [parsed];
    common = common === undefined ? versions : common.filter((version) => versions.includes(version));
  }
  const sorted = (common ?? []).sort(byVersion);
  if (sorted.length === 0) throw new StepError(`no version within ${range} is published for all of ${packages.join(', ')}`);
  return sorted;
}

const lowest = async (step: Step, packages: readonly string[], range: string): Promise<string> => (await published(step, packages, range))[0] as string;
const latest = async (step: Step, packages: readonly string[], range: string): Promise<string> => (await published(step, packages, range)).at(-1) as string;

/** A package at a version: `spec` is what npm installs (an alias such as `graphql-17@npm:graphql@17.0.0`). */
interface Pin {
  name: string;
  version: string;
  spec?: string;
}

const pins = (names: readonly string[], version: string): Pin[] => names.map((name) => ({ name, version }));

/** Repository copies by the versions installed in them: legs that want the same versions share one. */
const copies = new Map<string, Promise<string>>();

/** A copy of the repository (node_modules and .git too) with `wanted` installed by `npm install --no-save`. */
function repositoryCopy(step: Step, wanted: readonly Pin[]): Promise<string> {
  const key = wanted.map((pin) => `${pin.name}@${pin.version}`).join(' ');
  let copy = copies.get(key);
  if (copy === undefined) {
    copy = (async () => {
      const cwd = join(root, 'versions', key.replace(/[^\w.@-]+/g, '_'));
      await mkdir(cwd, { recursive: true });
      // Everything, .git included (some tests ask git what it tracks and ignores).
      for (const entry of await readdir(REPO)) {
        if (entry === 'coverage') continue;
        await cp(join(REPO, entry), join(cwd, entry), { recursive: true, verbatimSymlinks: true });
      }
      await npm(step, cwd, ['install', '--no-save', ...wanted.map((pin) => pin.spec ?? `${pin.name}@${pin.version}`)]);
      for (const pin of wanted) {
        const installed = await installedVersion(cwd, pin.name);
        if (installed !== pin.version) throw new StepError(`${pin.name} ${installed} installed instead of ${pin.version}`);
      }
      return cwd;
    })();
    copies.set(key, copy);
  }
  return copy;
}

/**
 * Runs vitest with `wanted` installed: in the repository itself when it already has exactly those,
 * otherwise in a copy of it. An identical earlier run (same directory, same arguments) is reported, not repeated.
 */
async function withVersions(step: Step, wanted: readonly Pin[], vitestArgs: string[]): Promise<void> {
  const describe = wanted.map((pin) => `${pin.name} ${pin.version}`).join(', ');
  const current = await Promise.all(wanted.map(async (pin) => (await installedVersion(REPO, pin.name)) === pin.version));
  const cwd = current.includes(false) ? await repositoryCopy(step, wanted) : REPO;
  const where = `${describe}${cwd === REPO ? ' (lockfile)' : ''}, node ${process.versions.node}`;
  step.target(where);
  const same = await vitestSuite(step, cwd, join(process.execPath, '..'), vitestArgs);
  if (same !== undefined) step.target(`${where}: the very run of ${same}`);
}

const GRAPHQL_SUITE = ['--config', 'vitest.graphql.config.ts'];
const GRAPHQL17_SUITE = ['--config', 'vitest.graphql17.config.ts'];

/** graphql 16 through the `graphql` package; graphql 17 through the `graphql-17` alias and its own config. */
const graphqlPin = (version: string): Pin =>
  version.startsWith('17.') ? { name: 'graphql-17', version, spec: `graphql-17@npm:graphql@${version}` } : { name: 'graphql', version };
const graphqlSuite = (version: string): string[] => (version.startsWith('17.') ? GRAPHQL17_SUITE : GRAPHQL_SUITE);

for (const range of alternatives('graphql')) {
  const major = /\d+/.exec(range)?.[0] ?? range;
  for (const end of ['lowest', 'latest'] as const) {
    leg({
      id: `graphql:${major}-${end}`,
      name: `graphql ${range} ${end}: GraphQL suite${major === '17' ? ' (graphql-17 alias)' : ''}`,
      async run(step) {
        const version = await (end === 'lowest' ? lowest : latest)(step, ['graphql'], range);
        await withVersions(step, [graphqlPin(version)], graphqlSuite(version));
      },
    });
  }
}

leg({
  id: 'graphql-yoga:lowest',
  name: `graphql-yoga ${claimed('graphql-yoga')} lowest: GraphQL suite`,
  run: async (step) => withVersions(step, pins(['graphql-yoga'], await lowest(step, ['graphql-yoga'], claimed('graphql-yoga'))), GRAPHQL_SUITE),
});
leg({
  id: 'graphql-yoga:latest',
  name: `graphql-yoga ${claimed('graphql-yoga')} latest: GraphQL suite`,
  run: async (step) => withVersions(step, pins(['graphql-yoga'], await latest(step, ['graphql-yoga'], claimed('graphql-yoga'))), GRAPHQL_SUITE),
});

// Apollo Server (`clerk-api-auth/apollo`): the plugin's own suite, on the lowest and latest release of
// every major the peer range claims (Apollo Server 4 is installed into a copy of the repository).
const APOLLO_SUITE = ['--config', 'vitest.graphql.config.ts', 'test/graphql/apollo.test.ts'];
for (const range of alternatives('@apollo/server')) {
  const major = /\d+/.exec(range)?.[0] ?? range;
  for (const end of ['lowest', 'latest'] as const) {
    leg({
      id: `apollo-server:${major}-${end}`,
      name: `@apollo/server ${range} ${end}: Apollo plugin suite`,
      run: async (step) => withVersions(step, pins(['@apollo/server'], await (end === 'lowest' ? lowest : latest)(step, ['@apollo/server'], range)), APOLLO_SUITE),
    });
  }
}

for (const range of alternatives('@graphql-tools/utils')) {
  const major = /\d+/.exec(range)?.[0] ?? range;
  leg({
    id: `graphql-tools-utils:${major}-lowest`,
    name: `@graphql-tools/utils ${range} lowest: GraphQL suite`,
    run: async (step) => withVersions(step, pins(['@graphql-tools/utils'], await lowest(step, ['@graphql-tools/utils'], range)), GRAPHQL_SUITE),
  });
}
leg({
  id: 'graphql-tools-utils:latest',
  name: `@graphql-tools/utils ${claimed('@graphql-tools/utils')} latest: GraphQL suite`,
  run: async (step) =>
    withVersions(step, pins(['@graphql-tools/utils'], await latest(step, ['@graphql-tools/utils'], claimed('@graphql-tools/utils'))), GRAPHQL_SUITE),
});

const TRPC = ['@trpc/server', '@trpc/client'];
const TRPC_SUITE = ['test/trpc', 'test/client'];
leg({
  id: 'trpc:lowest',
  name: `@trpc/server ${claimed('@trpc/server')} lowest: tRPC + client suites, type tests`,
  run: async (step) => withVersions(step, pins(TRPC, args['trpc-lowest'] ?? (await lowest(step, TRPC, claimed('@trpc/server')))), TRPC_SUITE),
});
leg({
  id: 'trpc:latest',
  name: `@trpc/server ${claimed('@trpc/server')} latest: tRPC + client suites, type tests`,
  run: async (step) => withVersions(step, pins(TRPC, await latest(step, TRPC, claimed('@trpc/server'))), TRPC_SUITE),
});

const CLERK = ['@clerk/backend'];
leg({
  id: 'clerk-backend:lowest',
  name: `@clerk/backend ${claimed('@clerk/backend')} lowest: full vitest suite`,
  run: async (step) => withVersions(step, pins(CLERK, args['clerk-backend-lowest'] ?? (await lowest(step, CLERK, claimed('@clerk/backend')))), []),
});
leg({
  id: 'clerk-backend:latest',
  name: `@clerk/backend ${claimed('@clerk/backend')} latest: full vitest suite`,
  run: async (step) => withVersions(step, pins(CLERK, await latest(step, CLERK, claimed('@clerk/backend'))), []),
});

// ---------------------------------------------------------------------------------------------------
// Run

if (args.list) {
  for (const { id, name } of legs) console.log(`${id.padEnd(24)} ${name}`);
  process.exit(0);
}

const root = process.env.MATRIX_TMP ?? (await mkdtemp(join(tmpdir(), 'clerk-api-auth-matrix-')));
const logs = join(root, 'logs');
await mkdir(logs, { recursive: true });
const NPM_CACHE = join(root, 'npm-cache');
const baseEnv: Record<string, string> = {
  ...npmEnv(NPM_CACHE),
  CLERK_TELEMETRY_DISABLED: '1',
  NO_COLOR: '1',
  FORCE_COLOR: '0',
  DO_NOT_TRACK: '1',
  CI: process.env.CI ?? 'true',
};

const wanted = new Set<string>();
const prefixes = args.only?.split(',').map((prefix) => prefix.trim()).filter((prefix) => prefix !== '');
const want = (id: string): void => {
  if (wanted.has(id)) return;
  wanted.add(id);
  for (const need of legs.find((candidate) => candidate.id === id)?.needs ?? []) want(need);
};
for (const { id } of legs) if (prefixes === undefined || prefixes.some((prefix) => id.startsWith(prefix))) want(id);
if (wanted.size === 0) throw new Error(`--only=${String(args.only)} matches no leg (see --list)`);

console.log(`clerk-api-auth compatibility matrix: ${wanted.size} legs, work dir ${root}`);
const started = performance.now();
const rows: Row[] = [];
const failed = new Set<string>();

for (const current of legs.filter(({ id }) => wanted.has(id))) {
  const log = join(logs, `${current.id.replace(/[^\w.-]+/g, '_')}.log`);
  let target = '';
  const step: Step = {
    id: current.id,
    log,
    target: (text) => void (target = text),
    sh: (command, commandArgs, options) => run(log, command, commandArgs, options),
  };
  const begin = performance.now();
  process.stdout.write(`- ${current.id} … `);
  let note: string | undefined;
  const blocked = current.needs?.find((need) => failed.has(need));
  try {
    if (blocked !== undefined) throw new StepError(`needs ${blocked}, which failed`);
    await current.run(step);
  } catch (error) {
    note = error instanceof Error ? error.message : String(error);
    if (!(error instanceof StepError) && error instanceof Error && error.stack !== undefined) await writeFile(log, `${error.stack}\n`, { flag: 'a' });
  }
  const seconds = (performance.now() - begin) / 1000;
  rows.push({ leg: current.name, target, result: note === undefined ? 'pass' : 'FAIL', seconds, ...(note === undefined ? {} : { note }) });
  if (note === undefined) {
    console.log(`pass (${seconds.toFixed(1)} s)`);
  } else {
    failed.add(current.id);
    console.log(`FAIL (${seconds.toFixed(1)} s): ${note}\n  log: ${relative(process.cwd(), log)}`);
    if (blocked === undefined) console.log((await tail(log)).replace(/^/gm, '  | '));
  }
}

const total = (performance.now() - started) / 1000;
const markdown = `${table(rows)}\n\nWall time ${total.toFixed(0)} s on ${process.platform}/${process.arch}, host node ${process.versions.node}.\n`;
console.log(`\n${markdown}`);
if (args.markdown !== undefined) await writeFile(args.markdown, markdown);

if (failed.size > 0) {
  console.log(`Logs kept in ${logs}`);
  process.exitCode = 1;
} else if (args.keep || process.env.MATRIX_TMP !== undefined) {
  console.log(`Work dir kept: ${root}`);
} else {
  await rm(root, { recursive: true, force: true });
}
console.log(`matrix: ${rows.length - failed.size} passed, ${failed.size} failed`);
