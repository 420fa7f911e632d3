import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local server that speaks the Gemini REST protocol (`POST /v1beta/models/<m>:generateContent`,
 * `GET /v1beta/models/<m>` and `GET /v1beta/models`, with `x-goog-api-key`), so the real
 * @google/genai client can be driven through every failure the real service produces. What it
 * answers to generateContent is decided per request by the test. Like the real service it answers
 * a model it does not serve with 404 NOT_FOUND, a wrong key with 400 API_KEY_INVALID, no key with
 * 403 PERMISSION_DENIED, and reports thinking (thoughtsTokenCount) and modelVersion.
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
  | { kind: 'answer'; text: string; delayMs?: number; thoughts?: number }
  /** Thoughts used the whole budget: the JSON stops mid-string, finishReason MAX_TOKENS. */
  | { kind: 'max-tokens'; text: string; thoughts?: number }
  | { kind: 'rate-limit'; retryAfterSeconds?: number; retryInfoSeconds?: number }
  | { kind: 'server-error'; status?: number }
  | { kind: 'hang' }
  | { kind: 'malformed' }
  | { kind: 'prompt-blocked' }
  | { kind: 'answer-blocked' };

export interface ProtocolServer {
  url: string;
  /** Every generateContent request the server answered from `decide`, in arrival order. */
  seen: GeminiRequestSeen[];
  /** generateContent requests received, refused ones (404, bad key) included. */
  readonly generateCalls: number;
  close(): Promise<void>;
}

export const USAGE_PER_ANSWER = { input: 11, output: 7 };

export interface GeminiServerOptions {
  /** Models the server serves (models.get/list, generateContent); absent: any name is served. */
  models?: readonly string[];
  /** The key the server accepts; absent: any non-empty key. */
  apiKey?: string;
  /** What `modelVersion` says in answers; defaults to the model asked for. */
  modelVersion?: string;
}

export async function startGeminiServer(
  decide: (request: GeminiRequestSeen) => ServerBehaviour,
  options: GeminiServerOptions = {},
): Promise<ProtocolServer> {
  const seen: GeminiRequestSeen[] = [];
  const server = createServer((req, res) => {
    void handle(req, res);
  });
  let generateCalls = 0;
  const serves = (model: string) => !options.models || options.models.includes(model);
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const generate = /^\/v1beta\/models\/([^:/]+):generateContent$/.exec(url.pathname);
    const get = /^\/v1beta\/models\/([^:/]+)$/.exec(url.pathname);
    const list = url.pathname === '/v1beta/models';
    if (!(req.method === 'POST' && generate) && !(req.method === 'GET' && (get || list))) {
      sendJson(res, 404, {
        error: { code: 404, message: `not found: ${req.method} ${req.url}`, status: 'NOT_FOUND' },
      });
      return;
    }
    if (generate) generateCalls++;
    const key = header(req, 'x-goog-api-key') ?? url.searchParams.get('key') ?? undefined;
    if (!key) {
      sendJson(res, 403, {
        error: {
          code: 403,
          message:
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
          status: 'PERMISSION_DENIED',
        },
      });
      return;
    }
    if (options.apiKey !== undefined && key !== options.apiKey) {
      sendJson(res, 400, {
        error: {
          code: 400,
          message: 'API key not valid. Please pass a valid API key.',
          status: 'INVALID_ARGUMENT',
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
              reason: 'API_KEY_INVALID',
              domain: 'googleapis.com',
              metadata: { service: 'generativelanguage.googleapis.com' },
            },
          ],
        },
      });
      return;
    }
    if (list) {
      sendJson(res, 200, { models: (options.models ?? []).map(modelResource) });
      return;
    }
    const model = (generate?.[1] ?? get?.[1]) as string;
    if (!serves(model)) {
      sendJson(res, 404, {
        error: {
          code: 404,
          message: `models/${model} is not found for API version v1beta, or is not supported for ${generate ? 'generateContent' : 'get'}. Call ListModels to see the list of available models and their supported methods.`,
          status: 'NOT_FOUND',
        },
      });
      return;
    }
    if (get) {
      sendJson(res, 200, modelResource(model));
      return;
    }
    const version = options.modelVersion ?? model;
    const body = JSON.parse(await readBody(req)) as GeminiBody;
    const parts = body.contents?.[0]?.parts ?? [];
    const request: GeminiRequestSeen = {
      model,
      apiKey: key,
      system: (body.systemInstruction?.parts ?? []).map((p) => p.text ?? '').join(''),
      prompt: parts.map((p) => p.text ?? '').join(''),
      schema: body.generationConfig?.responseJsonSchema,
      hasImage: parts.some((p) => p.inlineData !== undefined),
      generationConfig: body.generationConfig ?? {},
      at: Date.now(),
    };
    const thinking = (body.generationConfig?.thinkingConfig ?? {}) as Record<string, unknown>;
    if (thinking.thinkingBudget !== undefined && thinking.thinkingLevel !== undefined) {
      // As the real service refuses a request that sets both.
      sendJson(res, 400, {
        error: {
          code: 400,
          message: 'You can only set only one of thinking budget and thinking level.',
          status: 'INVALID_ARGUMENT',
        },
      });
      return;
    }
    seen.push(request);
    const behaviour = decide(request);
    switch (behaviour.kind) {
      case 'answer':
        if (behaviour.delayMs)
          await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
        sendJson(res, 200, candidateResponse(behaviour.text, 'STOP', version, behaviour.thoughts));
        return;
      case 'max-tokens':
        sendJson(
          res,
          200,
          candidateResponse(behaviour.text, 'MAX_TOKENS', version, behaviour.thoughts),
        );
        return;
      case 'malformed':
        sendJson(
          res,
          200,
          candidateResponse('{"category_number": 21, "reasoning": "cut off', 'STOP', version),
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
        sendJson(res, 200, candidateResponse('', 'SAFETY', version));
        return;
    }
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    get generateCalls() {
      return generateCalls;
    },
    close: () => closeServer(server),
  };
}

interface GeminiBody {
  contents?: { parts?: { text?: string; inlineData?: unknown }[] }[];
  systemInstruction?: { parts?: { text?: string }[] };
  generationConfig?: Record<string, unknown> & { responseJsonSchema?: unknown };
}

function candidateResponse(
  text: string,
  finishReason: string,
  modelVersion: string,
  thoughts = 0,
): unknown {
  return {
    candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason, index: 0 }],
    usageMetadata: {
      promptTokenCount: USAGE_PER_ANSWER.input,
      candidatesTokenCount: USAGE_PER_ANSWER.output,
      // The real service leaves the field out when the model did not think.
      ...(thoughts > 0 ? { thoughtsTokenCount: thoughts } : {}),
      totalTokenCount: USAGE_PER_ANSWER.input + USAGE_PER_ANSWER.output + thoughts,
    },
    modelVersion,
    responseId: 'test-response',
  };
}

/** A model as models.get describes it (the fields the v1beta Model resource carries). */
function modelResource(model: string): unknown {
  return {
    name: `models/${model}`,
    version: '001',
    displayName: model,
    description: 'A model served by the local Gemini-protocol test server.',
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
    supportedGenerationMethods: ['generateContent', 'countTokens'],
    temperature: 1,
    maxTemperature: 2,
    topP: 0.95,
    topK: 64,
    thinking: true,
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
