import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A pass-through HTTP proxy in front of the real MLflow server that records what clients send
 * and can inject failures (the real server cannot be made to answer 503 on demand).
 */
export interface RecordingProxy {
  url: string;
  requests: { method: string; path: string; headers: IncomingHttpHeaders }[];
  /** How many of the next requests to answer with 503 instead of forwarding. */
  failNext: number;
  close(): Promise<void>;
}

export async function startRecordingProxy(upstream: string): Promise<RecordingProxy> {
  const proxy: RecordingProxy = { url: '', requests: [], failNext: 0, close: async () => {} };
  const server = createServer(async (req, res) => {
    proxy.requests.push({
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
    });
    if (proxy.failNext > 0) {
      proxy.failNext -= 1;
      res.writeHead(503).end('busy');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
    const contentType = req.headers['content-type'];
    const upstreamResponse = await fetch(upstream + (req.url ?? '/'), {
      method: req.method,
      headers: contentType ? { 'content-type': contentType } : {},
      body,
    });
    res
      .writeHead(upstreamResponse.status, {
        'content-type': upstreamResponse.headers.get('content-type') ?? 'text/plain',
      })
      .end(Buffer.from(await upstreamResponse.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () => new Promise((resolve) => server.close(() => resolve()));
  return proxy;
}
