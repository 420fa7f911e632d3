import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, readBody, sendJson } from './gemini-protocol-server.ts';

/**
 * A local OpenAI-compatible server (`POST /v1/chat/completions`, bearer key), as vLLM,
 * llama.cpp's server or Ollama expose it, for driving the real `openai` client.
 */
export interface ChatRequestSeen {
  authorization: string | undefined;
  model: string;
  system: string;
  prompt: string;
  responseFormat: unknown;
  temperature: unknown;
  maxTokens: unknown;
  at: number;
}

export type ChatBehaviour =
  | { kind: 'answer'; text: string }
  | { kind: 'rate-limit'; retryAfterSeconds: number }
  | { kind: 'server-error' }
  | { kind: 'malformed' }
  | { kind: 'content-filter' }
  | { kind: 'refusal' };

export const CHAT_USAGE = { prompt: 13, completion: 5 };

export async function startOpenAiServer(
  decide: (request: ChatRequestSeen) => ChatBehaviour,
  /** What GET /v1/models lists, as vLLM and llama.cpp list the models they serve. */
  options: { models?: readonly string[] } = {},
): Promise<{ url: string; seen: ChatRequestSeen[]; close(): Promise<void> }> {
  const seen: ChatRequestSeen[] = [];
  const server = createServer((req, res) => {
    void handle(req, res);
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/v1/models') {
      sendJson(res, 200, {
        object: 'list',
        data: (options.models ?? []).map((id) => ({
          id,
          object: 'model',
          created: 1_767_225_600,
          owned_by: 'local',
        })),
      });
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      sendJson(res, 404, {
        error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' },
      });
      return;
    }
    const body = JSON.parse(await readBody(req)) as {
      model: string;
      messages: { role: string; content: string | { type: string; text?: string }[] }[];
      response_format?: unknown;
      temperature?: unknown;
      max_tokens?: unknown;
    };
    const text = (role: string) =>
      body.messages
        .filter((m) => m.role === role)
        .map((m) =>
          typeof m.content === 'string' ? m.content : m.content.map((p) => p.text ?? '').join(''),
        )
        .join('\n');
    const request: ChatRequestSeen = {
      authorization: req.headers.authorization,
      model: body.model,
      system: text('system'),
      prompt: text('user'),
      responseFormat: body.response_format,
      temperature: body.temperature,
      maxTokens: body.max_tokens,
      at: Date.now(),
    };
    seen.push(request);
    const behaviour = decide(request);
    switch (behaviour.kind) {
      case 'answer':
        sendJson(res, 200, completion(body.model, behaviour.text, 'stop'));
        return;
      case 'malformed':
        sendJson(res, 200, completion(body.model, 'Sure! Here is the answer: {"answer": ', 'stop'));
        return;
      case 'content-filter':
        sendJson(res, 200, completion(body.model, '', 'content_filter'));
        return;
      case 'refusal':
        sendJson(res, 200, completion(body.model, null, 'stop', 'I cannot help with that.'));
        return;
      case 'rate-limit':
        sendJson(
          res,
          429,
          {
            error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' },
          },
          { 'retry-after': String(behaviour.retryAfterSeconds) },
        );
        return;
      case 'server-error':
        sendJson(res, 500, { error: { message: 'The server had an error', type: 'server_error' } });
        return;
    }
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, seen, close: () => closeServer(server) };
}

function completion(
  model: string,
  content: string | null,
  finishReason: string,
  refusal: string | null = null,
) {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      { index: 0, message: { role: 'assistant', content, refusal }, finish_reason: finishReason },
    ],
    usage: {
      prompt_tokens: CHAT_USAGE.prompt,
      completion_tokens: CHAT_USAGE.completion,
      total_tokens: CHAT_USAGE.prompt + CHAT_USAGE.completion,
    },
  };
}
