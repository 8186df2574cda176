/**
 * Serves a fetch-style handler (`(Request) => Response`) on Node's http server, and logs one line per
 * request: method, path, status, userId or `anonymous`, ms. Never logs a token or a key.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';

const users = new WeakMap<Request, string>();

/** Records who a request was authenticated as, for the access log. */
export function noteUser(request: Request, userId: string | null | undefined): void {
  if (userId) users.set(request, userId);
}

export interface Served {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

function toRequest(req: IncomingMessage, res: ServerResponse, base: string): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const controller = new AbortController();
  // Abort when this response ends or its client goes away (one listener per request, not per keep-alive socket).
  res.once('close', () => controller.abort());
  return new Request(new URL(req.url ?? '/', base), {
    method,
    headers,
    signal: controller.signal,
    ...(hasBody && { body: Readable.toWeb(req) as ReadableStream, duplex: 'half' }),
  } as RequestInit);
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key === 'set-cookie') return;
    headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  res.flushHeaders();
  if (!response.body) {
    res.end();
    return;
  }
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
    }
  } catch {
    // The client went away mid-stream.
  }
  res.end();
}

export async function serve(
  handler: (request: Request) => Promise<Response> | Response,
  options: { port: number; host?: string; name: string; log?: (line: string) => void },
): Promise<Served> {
  const log = options.log ?? ((line: string) => console.log(line));
  const server = createServer((req, res) => {
    const started = performance.now();
    let request: Request | undefined;
    res.once('finish', () => {
      const ms = (performance.now() - started).toFixed(1);
      const path = (req.url ?? '/').split('?')[0];
      const who = (request && users.get(request)) ?? 'anonymous';
      log(`${options.name} ${req.method} ${path} ${res.statusCode} ${who} ${ms}ms`);
    });
    void (async () => {
      try {
        let base: string;
        try {
          base = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`).origin;
        } catch {
          // RFC 9112 §3.2: a Host (or request target) that is not valid gets 400, not a 500.
          res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad_request"}');
          return;
        }
        request = toRequest(req, res, base);
        await send(res, await handler(request));
      } catch {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal"}');
        else res.end();
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // No host given: Node listens on every address (IPv6 and IPv4), so `localhost` works either way.
    if (options.host) server.listen(options.port, options.host, () => resolve());
    else server.listen(options.port, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
