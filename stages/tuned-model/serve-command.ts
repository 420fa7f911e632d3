import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArtifactStore } from '../../runner/artifact-store.ts';
import { type CommandCode, EXIT_OK, EXIT_USAGE } from '../../runner/cli/cli-context.ts';
import { loadPlan, openStore, specOptions } from '../../runner/cli/common.ts';
import type { SweepPlan } from '../../runner/sweep-plan.ts';
import { collectSweepResults } from '../report/sweep-results.ts';
import { imageInput } from './image-input.ts';
import { ServedModels, type TurnRecord } from './serve-models.ts';
import { SERVE_PAGE } from './serve-page.ts';
import { runArguments, type VariantStages, variantStages } from './variant-stages.ts';

/**
 * `dermatune serve <spec>`: a local page to ask the sweep's variants about an image side by
 * side, beside their Table 1 values. Models load once (ServedModels) and stay loaded; each
 * variant keeps its conversation. Bound to 127.0.0.1 unless `--host` says otherwise.
 */
export interface Serving {
  url: string;
  models: ServedModels;
  close(): Promise<void>;
}

export async function startServe(options: {
  plan: SweepPlan;
  store: ArtifactStore;
  runArgs: string;
  host: string;
  port: number;
}): Promise<Serving> {
  const { plan, store } = options;
  const stages = new Map<string, VariantStages>();
  const hints = new Map<string, string>();
  for (const variant of plan.variants) {
    const found = await variantStages(plan, store, variant.name, options.runArgs);
    if (found.ok) stages.set(variant.name, found.value);
    else hints.set(variant.name, found.error.message);
  }
  const results = new Map(
    (await collectSweepResults(plan, store)).map((r) => [r.variant, r] as const),
  );
  const models = new ServedModels();
  const scratch = await mkdtemp(join(tmpdir(), 'dermatune-serve-'));
  let images = 0;

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method === 'GET' && path === '/') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        // The page runs its own inline script and talks to this origin only.
        'content-security-policy':
          "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:",
      });
      return res.end(SERVE_PAGE);
    }
    if (req.method === 'GET' && path === '/api/variants') {
      return json(200, {
        spec: plan.specName,
        variants: plan.variants.map((v) => ({
          name: v.name,
          tuned: (v.spec.train as { method?: string } | undefined)?.method !== 'none',
          trained: stages.has(v.name),
          hint: hints.get(v.name) ?? '',
          metrics: results.get(v.name)?.metrics ?? {},
        })),
      });
    }
    if (req.method === 'GET' && path === '/api/status') {
      return json(200, {
        states: Object.fromEntries(models.states),
        loads: Object.fromEntries(models.loads),
      });
    }
    if (req.method !== 'POST') return json(404, { error: 'not found' });
    const body = await readJson(req);
    if (body === undefined) return json(400, { error: 'the request is not JSON' });
    const names = Array.isArray(body.variants) ? body.variants.map(String) : [];
    const chosen = names.map((name) => stages.get(name));
    const unknown = names.find((name) => !stages.has(name));
    if (unknown !== undefined) {
      return json(400, { error: hints.get(unknown) ?? `no such variant: ${unknown}` });
    }
    if (path === '/api/load') {
      for (const s of chosen) if (s) void models.load(s);
      return json(202, { loading: names });
    }
    if (path !== '/api/ask') return json(404, { error: 'not found' });
    const question = typeof body.question === 'string' ? body.question.trim() : '';
    if (question === '' || names.length === 0) {
      return json(400, { error: 'ask a question of at least one variant' });
    }
    const bytes = dataUrlBytes(body.image);
    const image = bytes && imageInput(bytes, 'the image');
    if (!image?.ok) return json(400, { error: image ? image.error : 'no image was sent' });
    const imagePath = join(scratch, `image-${images++}.${image.value.extension}`);
    await writeFile(imagePath, image.value.bytes);
    const conversations = (body.conversations ?? {}) as Record<string, TurnRecord[]>;
    const answers = [];
    for (const s of chosen) {
      if (!s) continue;
      const name = s.variant.name;
      const turns = Array.isArray(conversations[name]) ? conversations[name] : [];
      const answer = await models.ask(s, { text: question, imagePath, turns });
      answers.push(
        answer.ok ? { variant: name, ...answer.value } : { variant: name, error: answer.error },
      );
    }
    return json(200, { answers });
  };

  const server: Server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/`,
    models,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await models.close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

export const serveCommand: CommandCode = {
  usage: 'dermatune serve <spec.yaml> [--port N] [--host H] [--set key=value]...',
  options: {
    ...Object.fromEntries(
      Object.entries(specOptions).filter(([name]) => name === 'set' || name === 'store'),
    ),
    port: { type: 'string', description: 'port to listen on (default 7860; 0: any free port)' },
    host: {
      type: 'string',
      description:
        'address to bind (default 127.0.0.1; anything else is reachable from other machines)',
    },
  },
  positionals: [{ name: 'spec', required: true }],
  async run(args, ctx) {
    const port = Number(args.values.port ?? 7860);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      ctx.io.stderr(`--port ${String(args.values.port)}: not a port number\n`);
      return EXIT_USAGE;
    }
    const host = typeof args.values.host === 'string' ? args.values.host : '127.0.0.1';
    const plan = await loadPlan(args, ctx, { fresh: false });
    if (!plan) return EXIT_USAGE;
    const store = openStore(args, ctx);
    if (!store) return EXIT_USAGE;
    if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
      ctx.io.stderr(
        `warning: serving on ${host}: anyone who reaches this machine can ask the models, with no password\n`,
      );
    }
    const serving = await startServe({ plan, store, runArgs: runArguments(args), host, port });
    ctx.io.stdout(`Serving ${plan.specName} on ${serving.url} (Ctrl-C stops)\n`);
    const stop = ctx.interrupts?.();
    await new Promise<void>((resolve) => {
      if (!stop) return resolve();
      stop.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    stop?.dispose();
    await serving.close();
    return EXIT_OK;
  },
};

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    // An image is at most MAX_IMAGE_BYTES; base64 and the conversation add a third and a little.
    if (size > 32 * 1024 * 1024) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    return value !== null && typeof value === 'object'
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function dataUrlBytes(value: unknown): Buffer | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^data:[^;,]*;base64,(.*)$/s.exec(value);
  return match ? Buffer.from(match[1] ?? '', 'base64') : undefined;
}
