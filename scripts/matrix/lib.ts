/** Helpers of the compatibility matrix: child processes with logs and time limits, npm in a throwaway cache, the table. */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository this script belongs to. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const repoRequire = createRequire(join(REPO, 'package.json'));

/** Binaries from the repository's own node_modules (never installed by the matrix). */
export const TOOLS = {
  tsc: repoRequire.resolve('typescript/bin/tsc'),
  // esbuild is tsx's bundler; resolve the one tsx depends on rather than whatever is hoisted.
  esbuild: createRequire(repoRequire.resolve('tsx/package.json')).resolve('esbuild/bin/esbuild'),
};

/** A failed step: its message is the table's note, its log the evidence. */
export class StepError extends Error {}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  /** Kill the whole process group after this long. Default 10 minutes. */
  timeoutMs?: number;
  /** Resolve on a non-zero exit too (the caller reads `code`). */
  allowFailure?: boolean;
}

/** The output of a finished command. */
export interface RunResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/**
 * Runs `command args` in its own process group, appending everything it prints to `log`, and
 * resolves with its output. Rejects with `StepError` on a non-zero exit (unless `allowFailure`), a signal
 * or the time limit.
 */
export function run(log: string, command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 600_000;
  return new Promise((resolve, reject) => {
    const stream = createWriteStream(log, { flags: 'a' });
    stream.write(`\n$ (cd ${options.cwd} && ${[command, ...args].join(' ')})\n`);
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      stream.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      stream.write(chunk);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      stream.end();
      reject(new StepError(`${command}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      stream.end(`[exit ${code ?? signal}]\n`);
      if (timedOut) reject(new StepError(`${[command, ...args].join(' ')}: no answer within ${timeoutMs / 1000} s`));
      else if (code !== 0 && !(options.allowFailure === true && code !== null)) reject(new StepError(`${[command, ...args].slice(0, 4).join(' ')} exited ${code ?? signal}`));
      else resolve({ stdout, stderr, code });
    });
  });
}

/** npm, with the run's one throwaway cache and no audit, fund or update-notifier traffic. */
export function npmEnv(cache: string): Record<string, string> {
  return {
    npm_config_cache: cache,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_loglevel: 'warn',
    npm_config_prefer_offline: 'true',
  };
}

/** Creates `dir` with a `package.json` (and any other files). */
export async function project(dir: string, packageJson: Record<string, unknown>, files: Record<string, string> = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ private: true, ...packageJson }, null, 2)}\n`);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), content);
  }
}

/** The version of `name` installed under `dir`. */
export async function installedVersion(dir: string, name: string): Promise<string> {
  const file = join(dir, 'node_modules', name, 'package.json');
  if (!existsSync(file)) throw new StepError(`${name} is not installed in ${dir}`);
  return (JSON.parse(await readFile(file, 'utf8')) as { version: string }).version;
}

/** The last `count` lines of a log, for a failure report. */
export async function tail(file: string, count = 40): Promise<string> {
  if (!existsSync(file)) return '';
  const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
  return lines.slice(-count).join('\n');
}

/** One row of the table. */
export interface Row {
  leg: string;
  target: string;
  result: 'pass' | 'FAIL';
  seconds: number;
  note?: string;
}

/** The rows as a Markdown table. */
export function table(rows: readonly Row[]): string {
  const lines = ['| leg | runtime / versions | result | seconds |', '|---|---|---|---:|'];
  for (const row of rows) {
    const result = row.result === 'pass' ? 'pass' : `**FAIL**${row.note === undefined ? '' : `: ${row.note.replaceAll('|', '\\|')}`}`;
    lines.push(`| ${row.leg.replaceAll('|', '\\|')} | ${row.target.replaceAll('|', '\\|')} | ${result} | ${row.seconds.toFixed(1)} |`);
  }
  return lines.join('\n');
}
