/**
 * Tests never touch the internet: a fetch to any host other than loopback is refused, and the test
 * file that attempted it fails (even when the code under test swallowed the error).
 */
import { afterAll } from 'vitest';

const original = globalThis.fetch;
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;
const attempts: string[] = [];

globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (!LOOPBACK.test(url.hostname)) {
    attempts.push(url.host);
    throw new Error(`Test tried to reach ${url.host}: tests must only talk to loopback servers.`);
  }
  return original(input, init);
};

afterAll(() => {
  if (attempts.length > 0) throw new Error(`This file tried to reach the network: ${[...new Set(attempts)].join(', ')}`);
});
