import { appendFileSync } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pipeline, PipelineStage } from '../../runner/pipeline.ts';
import { fail, ok } from '../../runner/result.ts';
import { defineStageKind } from '../../runner/stage-kind.ts';

/**
 * A tiny domain for testing the runner: a shared "source" stage, a per-variant "scale" stage
 * that works item by item (with a memo, like LLM stages), and a "report" stage. Every run of a
 * stage appends a line to $TEST_CALLS_FILE so tests can assert what ran.
 */
async function noteCall(name: string, key: string) {
  const file = process.env.TEST_CALLS_FILE;
  if (file) await appendFile(file, `${name} ${key}\n`);
}

/** Where `prepare` calls are noted (with the time they came), beside the calls file. */
export function prepareCallsFile(callsFile: string): string {
  return callsFile.replace(/\.txt$/, '-prepare.txt');
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

export const sourceKind = defineStageKind<{ data: { items: number }; seed: number }>({
  name: 'source',
  version: 1,
  description: 'writes numbered items',
  inputs: [],
  deterministic: true,
  resources: { cpu: 1 },
  paramsSchema: {
    type: 'object',
    properties: {
      seed: { type: 'integer', default: 1 },
      data: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          items: {
            type: 'integer',
            minimum: 1,
            maximum: 1000,
            default: 5,
            description: 'How many items.',
          },
          fail: { type: 'boolean', default: false },
        },
      },
    },
  },
  async run(ctx) {
    await noteCall('source', ctx.key);
    const lines = Array.from({ length: ctx.params.data.items }, (_, i) =>
      String((i + 1) * ctx.params.seed),
    );
    await writeFile(join(ctx.outDir, 'items.txt'), `${lines.join('\n')}\n`);
    return ok({ metrics: { items: lines.length } });
  },
});

const arrivals: Array<() => void> = [];

/** Resolves 'met' once `expected` callers are waiting together, or 'alone' after 30 s. */
function rendezvous(expected: number): Promise<'met' | 'alone'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('alone'), 30_000);
    arrivals.push(() => {
      clearTimeout(timer);
      resolve('met');
    });
    if (arrivals.length >= expected) for (const wake of arrivals.splice(0)) wake();
  });
}

export const scaleKind = defineStageKind<{ model: { factor: number; delay_ms: number } }>({
  name: 'scale',
  version: 1,
  description: 'multiplies each item, one memoised item at a time',
  inputs: ['items'],
  deterministic: false,
  resources: { cpu: 1 },
  paramsSchema: {
    type: 'object',
    properties: {
      model: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          factor: { type: 'number', default: 2, description: 'Multiplier.' },
          delay_ms: { type: 'integer', minimum: 0, default: 0 },
        },
      },
    },
  },
  // Notes when it ended, so a test can order it against stages. With
  // $TEST_PREPARE_RENDEZVOUS=N, each call waits (bounded) until N calls have begun, and notes
  // whether they met: set-ups that run side by side meet, set-ups run one after another do
  // not. No sleep measures the overlap.
  prepare: async (params) => {
    const file = process.env.TEST_CALLS_FILE;
    const expected = Number(process.env.TEST_PREPARE_RENDEZVOUS ?? 0);
    const met = expected > 0 ? await rendezvous(expected) : 'alone';
    if (file)
      appendFileSync(prepareCallsFile(file), `${params.model.factor} ${met} ${Date.now()}\n`);
  },
  async run(ctx) {
    await noteCall('scale', ctx.key);
    const items = (await readFile(join(ctx.inputs.items?.dir ?? '', 'items.txt'), 'utf8'))
      .trim()
      .split('\n');
    const out: string[] = [];
    for (const [index, item] of items.entries()) {
      if (ctx.signal.aborted) return fail({ reason: 'cancelled', message: 'stopped' });
      const memoKey = `${item}x${ctx.params.model.factor}`;
      let value = await ctx.memo.get<number>('scale', memoKey);
      if (value === undefined) {
        await noteCall('scale-item', memoKey);
        await sleep(ctx.params.model.delay_ms, ctx.signal);
        value = Number(item) * ctx.params.model.factor;
        await ctx.memo.put('scale', memoKey, value);
      }
      out.push(String(value));
      ctx.report({ type: 'progress', done: index + 1, total: items.length, unit: 'items' });
      ctx.report({ type: 'metric', name: 'train/loss', value: 1 / (index + 1), step: index + 1 });
    }
    await writeFile(join(ctx.outDir, 'scaled.txt'), `${out.join('\n')}\n`);
    return ok({ metrics: { sum: out.reduce((a, b) => a + Number(b), 0) } });
  },
});

export const reportKind = defineStageKind<{ eval: { title: string; fail: boolean } }>({
  name: 'report',
  version: 1,
  description: 'sums the scaled items',
  inputs: ['scaled'],
  deterministic: true,
  resources: { cpu: 1 },
  paramsSchema: {
    type: 'object',
    properties: {
      eval: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          title: { type: 'string', default: 'sum' },
          fail: { type: 'boolean', default: false, description: 'Fail on purpose (tests).' },
        },
      },
    },
  },
  async run(ctx) {
    await noteCall('report', ctx.key);
    if (ctx.params.eval.fail) {
      // Like the model worker's failures, the message points at the stage's log.
      await appendFile(ctx.logFile, 'the reason is in here\n');
      return fail({ reason: 'invalid-input', message: `asked to fail; see ${ctx.logFile}` });
    }
    const values = (await readFile(join(ctx.inputs.scaled?.dir ?? '', 'scaled.txt'), 'utf8'))
      .trim()
      .split('\n');
    const sum = values.reduce((a, b) => a + Number(b), 0);
    await writeFile(
      join(ctx.outDir, 'report.json'),
      JSON.stringify({ title: ctx.params.eval.title, sum }),
    );
    return ok({ metrics: { 'eval/sum': sum }, artifacts: ['report.json'] });
  },
});

/** A kind declared without a run function, as the paper's kinds were before they landed. */
export const pendingKind = defineStageKind<Record<string, never>>({
  name: 'pending',
  version: 1,
  description: 'not implemented yet',
  inputs: ['scaled'],
  deterministic: true,
  resources: {},
  paramsSchema: { type: 'object', properties: {} },
});

export const testPipeline: Pipeline = {
  kinds: [sourceKind, scaleKind, reportKind, pendingKind],
  // The runner brings name, extends and sweep; this domain adds one top-level switch.
  baseSchema: { properties: { pending: { type: 'boolean', default: false } } },
  stagesFor(spec): PipelineStage[] {
    return [
      { id: 'source', kind: 'source', inputs: {} },
      { id: 'scale', kind: 'scale', inputs: { items: 'source' } },
      spec.pending === true
        ? { id: 'report', kind: 'pending', inputs: { scaled: 'scale' } }
        : { id: 'report', kind: 'report', inputs: { scaled: 'scale' } },
    ];
  },
};
