/**
 * A reference server as a real child process (`npm run <script>`), configured only through its
 * environment, as a deployment or a black-box suite starts it; stopped by its PID (the process group
 * of npm, its shell, tsx and the server).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface ExampleProcess {
  /** The URL the server said it listens on. */
  readonly url: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /**
   * SIGTERM to its process group; resolves once npm exited and the server's port refuses connections
   * (the server itself may take a moment longer than npm), with npm's exit code and signal.
   */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null; closed: boolean }>;
}

/** Starts `npm run <script>` with `CLERK_*` and `PORT` only from `env` (the parent's are dropped). */
export async function startExample(script: string, env: Record<string, string>): Promise<ExampleProcess> {
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('CLERK_') && key !== 'PORT') childEnv[key] = value;
  Object.assign(childEnv, { CLERK_TELEMETRY_DISABLED: '1', PORT: '0' }, env);
  const child: ChildProcess = spawn('npm', ['run', '--silent', script], { cwd: root, env: childEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    const check = setInterval(() => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearInterval(check);
        resolve(match[1]);
      }
    }, 50);
    void exited.then(({ code }) => {
      clearInterval(check);
      reject(new Error(`${script} exited early (${String(code)}):\n${output}`));
    });
  });
  return {
    url,
    output: () => output,
    async stop() {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
      }
      const exit = await exited;
      let closed = false;
      for (let attempt = 0; attempt < 100 && !closed; attempt++) {
        closed = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(1000) }).then(
          async (response) => {
            await response.body?.cancel();
            await new Promise((resolve) => setTimeout(resolve, 100));
            return false;
          },
          () => true,
        );
      }
      return { ...exit, closed };
    },
  };
}
