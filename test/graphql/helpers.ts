/** Shared helpers of the GraphQL tests: real tokens, real loopback HTTP, SSE and graphql-ws clients. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** Session token claims used across the suites. */
export const ALICE = { userId: 'user_alice' } as const;
export const BOB = { userId: 'user_bob' } as const;
/** `org:admin` with the notes permission. */
export const ADMIN = { userId: 'user_admin', org: { id: 'org_1', role: 'admin', permissions: ['org:notes:create', 'org:notes:read'] } } as const;
/** A member who may create notes but is not an admin. */
export const WRITER = { userId: 'user_writer', org: { id: 'org_1', role: 'member', permissions: ['org:notes:create'] } } as const;
/** A member with no permission. */
export const MEMBER = { userId: 'user_member', org: { id: 'org_1', role: 'member' } } as const;

export interface GraphQLResponse {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; path?: Array<string | number>; locations?: unknown; extensions?: Record<string, unknown> }>;
  };
}

/** POSTs one GraphQL operation over real HTTP. */
export async function gql(
  url: string,
  query: string,
  options: { token?: string; variables?: Record<string, unknown>; headers?: Record<string, string> } = {},
): Promise<GraphQLResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables: options.variables }) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) as GraphQLResponse['body'] };
}

/** Error codes of a response, in order. */
export function codes(response: GraphQLResponse): unknown[] {
  return (response.body.errors ?? []).map((error) => error.extensions?.code);
}

export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Opens an SSE subscription (`Accept: text/event-stream`) and yields its events (`next`, `complete`).
 * Comments (keep-alive pings) are skipped.
 */
export async function sse(
  url: string,
  query: string,
  token?: string,
): Promise<{ status: number; headers: Headers; events: AsyncGenerator<SseEvent>; close(): void }> {
  const controller = new AbortController();
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query }), signal: controller.signal });
  async function* events(): AsyncGenerator<SseEvent> {
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = '';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trim());
          }
          if (event !== '') yield { event, data: data.join('\n') };
        }
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
  }
  return { status: response.status, headers: response.headers, events: events(), close: () => controller.abort() };
}

/** The next SSE event, parsed. */
export async function nextEvent(events: AsyncGenerator<SseEvent>): Promise<{ event: string; payload: GraphQLResponse['body'] | null }> {
  const { value, done } = await events.next();
  if (done) return { event: 'end', payload: null };
  return { event: value.event, payload: value.data === '' ? null : (JSON.parse(value.data) as GraphQLResponse['body']) };
}

/** A graphql-ws client over a real WebSocket. */
export function wsClient(url: string, connectionParams?: Record<string, unknown>): Client {
  return createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    ...(connectionParams !== undefined && { connectionParams }),
  });
}

/** Collects a graphql-ws subscription's results until it completes, errors, or `take` results arrived. */
export function wsCollect(
  client: Client,
  query: string,
  take = Number.POSITIVE_INFINITY,
): { results: Promise<Array<GraphQLResponse['body']>>; started: Promise<void>; stop(): void } {
  const results: Array<GraphQLResponse['body']> = [];
  let stop = (): void => {};
  let markStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  const done = new Promise<Array<GraphQLResponse['body']>>((resolve, reject) => {
    stop = client.subscribe(
      { query },
      {
        next: (value) => {
          results.push(value as GraphQLResponse['body']);
          if (results.length >= take) {
            stop();
            resolve(results);
          }
        },
        error: (error) => {
          if (Array.isArray(error)) resolve([...results, { errors: error as GraphQLResponse['body']['errors'] }]);
          else reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
        },
        complete: () => resolve(results),
      },
    );
    client.on('connected', () => markStarted());
  });
  return { results: done, started, stop: () => stop() };
}

/** Serves any request listener (e.g. a Yoga instance) on a free loopback port. */
export async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export { envFor } from '../support/env.js';
