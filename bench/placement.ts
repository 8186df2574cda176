/**
 * Where benchmark servers and the load generator run (servers on the last core, this process on the
 * others, with `taskset`), and how a server process is started, for every benchmark that starts its
 * own server scripts (bench/http.ts, bench/churn.ts, bench/cold-http.ts).
 *
 * @internal
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';

/** A pinned placement: the CPU servers get, a description, and how to give this process its CPUs back. */
export interface Pinned {
  serverCpu: string;
  placement: string;
  restore(): void;
}

/** Servers on the last core, this process (all its threads) on the others; `undefined` where `taskset` or a second core is missing. */
export function pinCores(): Pinned | undefined {
  const cores = availableParallelism();
  if (process.platform !== 'linux' || cores < 2) return undefined;
  try {
    const mask = /mask: ([0-9a-f]+)/i.exec(execFileSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' }))?.[1];
    if (mask === undefined) return undefined;
    const loadCpus = cores === 2 ? '0' : `0-${cores - 2}`;
    execFileSync('taskset', ['-a', '-p', '-c', loadCpus, String(process.pid)], { stdio: 'ignore' });
    return {
      serverCpu: String(cores - 1),
      placement: `server pinned to CPU ${cores - 1}, load generator to CPU ${loadCpus} (taskset)`,
      restore: () => execFileSync('taskset', ['-a', '-p', mask, String(process.pid)], { stdio: 'ignore' }),
    };
  } catch {
    return undefined;
  }
}

/** A benchmark server in its own process. */
export interface Server {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts `node --import tsx <script> ...args` (under `taskset -c <cpu>` when `cpu` is given) and waits
 * for it to print `listening <port>`.
 */
export async function startServer(script: string, args: readonly string[], env: NodeJS.ProcessEnv, cpu: string | undefined): Promise<Server> {
  const node = [process.execPath, '--import', 'tsx', script, ...args];
  const [command, ...rest] = cpu === undefined ? node : ['taskset', '-c', cpu, ...node];
  const child = spawn(command as string, rest, { env: { ...process.env, ...env, CLERK_TELEMETRY_DISABLED: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  let buffered = '';
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    buffered += chunk.toString();
    const match = /listening (\d+)/.exec(buffered);
    if (match) return { child, port: Number(match[1]), stop };
  }
  throw new Error(`${script} ${args.join(' ')} did not start`);
}
