import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local server that speaks the Gemini REST protocol (`POST /v1beta/models/<m>:generateContent`
 * with `x-goog-api-key`), so the real @google/genai client can be driven through every failure
 * the real service produces. What it answers is decided per request by the test.
 */
export interface GeminiRequestSeen {
  model: string;
  apiKey: string | undefined;
  system: string;
  prompt: string;
  schema: unknown;
  hasImage: boolean;
  generationConfig: Record<string, unknown>;
  at: number;
}

export type ServerBehaviour =
  | { kind: 'answer'; text: string; delayMs?: number }
  | { kind: 'rate-limit'; retryAfterSeconds?: number; retryInfoSeconds?: number }
  | { kind: 'server-error'; status?: number }
  | { kind: 'hang' }
  | { kind: 'malformed' }
  | { kind: 'prompt-blocked' }
  | { kind: 'answer-blocked' };

export interface ProtocolServer {
  url: string;
  /** Every request that reached the server, in arrival order. */
  seen: GeminiRequestSeen[];
  close(): Promise<void>;
}

export const USAGE_PER_ANSWER = { input: 11, output: 7 };

export async function startGeminiServer(
  decide: (request: GeminiRequestSeen) => ServerBehaviour,
): Promise<ProtocolServer> {
  const seen: GeminiRequestSeen[] = [];
  const server = createServer((req, res) => {
    void handle(req, res);
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^\/v1beta\/models\/([^:/]+):generateContent/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) {
      sendJson(res, 404, {
        error: { code: 404, message: `not found: ${req.method} ${req.url}`, status: 'NOT_FOUND' },
      });
      return;
    }
    const body = JSON.parse(await readBody(req)) as GeminiBody;
    const parts = body.contents?.[0]?.parts ?? [];
    const request: GeminiRequestSeen = {
      model: match[1] as string,
      apiKey: header(req, 'x-goog-api-key'),
      system: (body.systemInstruction?.parts ?? []).map((p) => p.text ?? '').join(''),
      prompt: parts.map((p) => p.text ?? '').join(''),
      schema: body.generationConfig?.responseJsonSchema,
      hasImage: parts.some((p) => p.inlineData !== undefined),
      generationConfig: body.generationConfig ?? {},
      at: Date.now(),
    };
    seen.push(request);
    const behaviour = decide(request);
    switch (behaviour.kind) {
      case 'answer':
        if (behaviour.delayMs)
          await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
        sendJson(res, 200, candidateResponse(behaviour.text, 'STOP'));
        return;
      case 'malformed':
        sendJson(
          res,
          200,
          candidateResponse('{"category_number": 21, "reasoning": "cut off', 'STOP'),
        );
        return;
      case 'rate-limit': {
        const headers: Record<string, string> = {};
        if (behaviour.retryAfterSeconds !== undefined)
          headers['retry-after'] = String(behaviour.retryAfterSeconds);
        const details =
          behaviour.retryInfoSeconds === undefined
            ? []
            : [
                {
                  '@type': 'type.googleapis.com/google.rpc.RetryInfo',
                  retryDelay: `${behaviour.retryInfoSeconds}s`,
                },
              ];
        sendJson(
          res,
          429,
          {
            error: {
              code: 429,
              message: 'Resource has been exhausted',
              status: 'RESOURCE_EXHAUSTED',
              details,
            },
          },
          headers,
        );
        return;
      }
      case 'server-error':
        sendJson(res, behaviour.status ?? 500, {
          error: { code: behaviour.status ?? 500, message: 'Internal error', status: 'INTERNAL' },
        });
        return;
      case 'hang':
        // Never answers; the client's timeout must end it. close() cuts the socket.
        return;
      case 'prompt-blocked':
        sendJson(res, 200, {
          promptFeedback: { blockReason: 'SAFETY' },
          usageMetadata: {
            promptTokenCount: USAGE_PER_ANSWER.input,
            totalTokenCount: USAGE_PER_ANSWER.input,
          },
        });
        return;
      case 'answer-blocked':
        sendJson(res, 200, candidateResponse('', 'SAFETY'));
        return;
    }
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => closeServer(server) };
}

interface GeminiBody {
  contents?: { parts?: { text?: string; inlineData?: unknown }[] }[];
  systemInstruction?: { parts?: { text?: string }[] };
  generationConfig?: Record<string, unknown> & { responseJsonSchema?: unknown };
}

function candidateResponse(text: string, finishReason: string): unknown {
  return {
    candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason, index: 0 }],
    usageMetadata: {
      promptTokenCount: USAGE_PER_ANSWER.input,
      candidatesTokenCount: USAGE_PER_ANSWER.output,
      totalTokenCount: USAGE_PER_ANSWER.input + USAGE_PER_ANSWER.output,
    },
    modelVersion: 'test-model',
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
