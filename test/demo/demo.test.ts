/**
 * `npm run demo` end to end, as a newcomer runs it: a child process with no Clerk configuration,
 * with a preload that refuses any connection to a host other than loopback (so "no internet" is
 * checked, not assumed). It must exit 0, print every step with the status it expected, and never
 * print a token or key.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const guard = fileURLToPath(new URL('./no-network.mjs', import.meta.url));
let child: ChildProcess | undefined;

afterAll(() => {
  // The process group: npm, its shell, and tsx's node.
  if (child?.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
});

/** The environment of a newcomer's shell: no CLERK_* variable at all. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('CLERK_')) env[name] = value;
  return { ...env, NO_COLOR: '1', NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${pathToFileURL(guard).href}`.trim() };
}

function run(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    child = spawn('npm', ['run', '--silent', 'demo'], { cwd: root, env: cleanEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the no-network guard the demo runs under', () => {
  it('refuses a non-loopback connection (before any DNS lookup) and fails the process', () => {
    const result = spawnSync(process.execPath, ['--import', guard, '-e', "fetch('http://example.com').catch(() => {})"], { encoding: 'utf8' });
    expect(result.status).toBe(97);
    expect(result.stderr).toContain('no-network: refused a connection to example.com');
  });
});

describe('npm run demo', () => {
  it('runs offline with no configuration, walks every step, prints no secret, and exits 0', async () => {
    const { code, stdout, stderr } = await run();
    const problems = stderr
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('npm warn'))
      .join('\n');
    expect(problems, stdout).toBe('');
    expect(code, stdout).toBe(0);
    child = undefined;

    // Both servers, on loopback.
    expect(stdout).toMatch(/tRPC {5}http:\/\/127\.0\.0\.1:\d+\/trpc/);
    expect(stdout).toMatch(/GraphQL {2}http:\/\/127\.0\.0\.1:\d+\/graphql/);

    // Every answer was the one its step expected.
    expect(stdout).not.toContain('✗');
    expect(stdout).toMatch(/All \d+ steps answered as expected\./);

    // tRPC: signed out, signed in, forbidden, expired-then-refreshed, machine token.
    expect(stdout).toContain('GET /trpc/whoami  (no token)\n    ✓ 401 UNAUTHORIZED · WWW-Authenticate: Bearer\n');
    expect(stdout).toMatch(/GET \/trpc\/whoami {2}\(alice\)\n {4}✓ 200 \{"data":\{"userId":"user_alice"/);
    expect(stdout).toContain('GET /trpc/me  (alice)\n    ✓ 200 {"data":{"id":"user_alice","email":"alice@example.com"}}');
    expect(stdout).toContain('GET /trpc/admin.stats  (alice)\n    ✓ 403 FORBIDDEN · WWW-Authenticate: Bearer error="insufficient_scope"');
    expect(stdout).toContain('✓ 401 UNAUTHORIZED · WWW-Authenticate: Bearer error="invalid_token", error_description="token-expired"');
    expect(stdout).toContain('✓ whoami.query() resolved: userId user_alice (getToken({ skipCache: true }) was called 1×)');
    expect(stdout).toContain('GET /trpc/machine.ping  (M2M token of mch_reports)\n    ✓ 200 {"data":{"machineId":"mch_reports"}}');
    expect(stdout).toMatch(/server log: trpc GET \/trpc\/machine\.ping 200 mch_reports [\d.]+ms/); // the machine, named in the access log

    // A 402, and a reverification prompt answered by a fresh token.
    expect(stdout).toContain('GET /trpc/reports.export  (alice)\n    ✓ 402 PAYMENT_REQUIRED · WWW-Authenticate: Bearer error="insufficient_scope"');
    expect(stdout).toContain(
      'POST /trpc/account.rotateKey  (alice)\n    ✓ 403 FORBIDDEN · clerk_error: reverification-error · WWW-Authenticate: Bearer error="insufficient_scope"\n' +
        "    ✓ Clerk's hint in error.data.clerk_error → verification prompt (strict) → alice verifies again\n" +
        '    POST /trpc/account.rotateKey  (alice)\n    ✓ 200 {"data":{"rotated":true}}\n' +
        '    ✓ rotateKey resolved: {"rotated":true} (retried with a fresh token: getToken({ skipCache: true }) 1×)',
    );
    expect(stdout).toContain('error_description="token-type-mismatch"');

    // GraphQL: signed out, signed in, forbidden, partial data, expired-then-refreshed.
    expect(stdout).toContain('POST /graphql  (no token)\n    ✓ 401 UNAUTHENTICATED · WWW-Authenticate: Bearer\n');
    expect(stdout).toContain('✓ 200 {"data":{"me":{"email":"bob@example.com"},"notes":[]}}');
    expect(stdout).toContain('✓ 403 FORBIDDEN · WWW-Authenticate: Bearer error="insufficient_scope"');
    expect(stdout).toContain('✓ 200 {"data":{"health":"ok","me":{"email":"alice@example.com"},"adminStats":null}} + 1 error');
    expect(stdout).toContain('errors: adminStats: FORBIDDEN');
    expect(stdout).toContain('✓ 401 UNAUTHENTICATED · WWW-Authenticate: Bearer error="invalid_token", error_description="token-expired"');
    expect(stdout).toContain('✓ me.email = alice@example.com (getToken({ skipCache: true }) was called 1×)');

    // The servers' access logs are shown, and neither they nor the demo print a token or a key.
    expect(stdout).toMatch(/server log: trpc GET \/trpc\/whoami 401 anonymous [\d.]+ms/);
    expect(stdout).toMatch(/server log: graphql POST \/graphql 200 user_bob [\d.]+ms/);
    const output = stdout + stderr;
    expect(output).not.toMatch(/eyJ[\w-]{8,}\.[\w-]{8,}\./); // a JWT
    expect(output).not.toMatch(/\b(sk|pk)_(test|live)_\w/);
    expect(output).not.toContain('BEGIN PUBLIC KEY');
    expect(output).not.toContain('OFFLINE DEV ISSUER'); // the servers got keys through CLERK_* like production
  }, 90_000);
});
