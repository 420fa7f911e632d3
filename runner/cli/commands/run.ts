import { resolveExecutor } from '../../executors/executor-settings.ts';
import type { StageExecutor } from '../../executors/stage-executor.ts';
import { combineObservers } from '../../observers.ts';
import { fail, ok, type Result } from '../../result.ts';
import type { RunObserver, SweepInfo } from '../../run-events.ts';
import { runStageGraph } from '../../scheduler.ts';
import { acquireStoreLock } from '../../store-lock.ts';
import { writeSweepHistory } from '../../sweep-history.ts';
import type { SweepPlan } from '../../sweep-plan.ts';
import {
  type CliContext,
  type CommandArgs,
  type CommandCode,
  EXIT_INTERRUPTED,
  EXIT_OK,
  EXIT_STAGE_FAILED,
  EXIT_USAGE,
  type TrackingSession,
} from '../cli-context.ts';
import { loadPlan, openStore, specOptions } from '../common.ts';
import { forcedKeys, forceOption } from '../force.ts';
import { failureLine, preflightNodes } from './preflight.ts';

export const runCommand: CommandCode = {
  usage:
    'dermatune run <spec.yaml> [--set key=value]... [--only variant]... [--jobs N] [--keep-going] [--force name]... [--json]',
  options: {
    ...specOptions,
    force: forceOption,
    jobs: {
      type: 'string',
      short: 'j',
      description: 'CPU slots for stages running at once (default: 2)',
    },
    gpus: { type: 'string', description: 'GPU slots (default: 1)' },
    'llm-concurrency': {
      type: 'string',
      description: 'LLM stages running at once per provider (default: 1)',
    },
    'keep-going': {
      type: 'boolean',
      description: 'after a failure, finish what does not depend on it',
    },
    wait: {
      type: 'boolean',
      description: 'wait for another run holding the store instead of failing',
    },
    'no-tracking': { type: 'boolean', description: 'do not log to MLflow' },
    executor: {
      type: 'string',
      description:
        'local, or ray: GPU and heavy stages run as Ray jobs (default: the spec, else local)',
    },
    'ray-address': {
      type: 'string',
      description: "the Ray dashboard's HTTP address (default: the spec, else $RAY_ADDRESS)",
    },
    'ray-storage': {
      type: 'string',
      description: 'a folder this machine and the Ray nodes share (default: the spec)',
    },
    json: {
      type: 'boolean',
      description: 'print machine-readable events, one JSON object per line',
    },
  },
  positionals: [{ name: 'spec', required: true }],
  async run(args, ctx) {
    const plan = await loadPlan(args, ctx);
    if (!plan) return EXIT_USAGE;
    const numbers = parseNumbers(args.values, ctx);
    if (!numbers) return EXIT_USAGE;
    const forced = forcedKeys(plan, args);
    if (!forced.ok) {
      ctx.io.stderr(`${forced.error}\n`);
      return EXIT_USAGE;
    }
    const store = openStore(args, ctx);
    if (!store) return EXIT_USAGE;
    // A cheap listing decides what may run; the scheduler verifies each stored entry.
    const stored = new Set(await store.storedKeys());
    const toRun = plan.graph.nodes.filter((n) => forced.value.has(n.key) || !stored.has(n.key));

    // Refuse up front, before anything runs or is paid for.
    const unimplemented = [...new Set(toRun.filter((n) => !n.kind.run).map((n) => n.kind.name))];
    if (unimplemented.length > 0) {
      ctx.io.stderr(
        `cannot run: stage kind(s) ${unimplemented.join(', ')} are declared but not implemented yet; nothing was run. (\`dermatune plan\` shows the graph.)\n`,
      );
      return EXIT_USAGE;
    }
    // The same proofs as `dermatune preflight`, before anything that costs starts.
    const tracked = ctx.tracking !== undefined && args.values['no-tracking'] !== true;
    const preflight = await preflightNodes(plan, toRun, store, stored, ctx, {
      tracking: tracked,
      signal: new AbortController().signal,
    });
    const failedChecks = preflight.checks.filter((c) => c.outcome === 'failed');
    for (const check of failedChecks.filter((c) => c.warnOnly)) {
      ctx.io.stderr(`warning: ${failureLine(check)}\n`);
    }
    if (failedChecks.some((c) => !c.warnOnly)) {
      const lines = failedChecks.filter((c) => !c.warnOnly).map(failureLine);
      ctx.io.stderr(
        `${lines.join('\n')}\n\nnothing was run. (\`dermatune preflight\` shows every check and the cost.)\n`,
      );
      return EXIT_USAGE;
    }

    const executor = await connectExecutor(plan, toRun, args, ctx);
    if (!executor.ok) {
      ctx.io.stderr(`${executor.error}\n\nnothing was run.\n`);
      return EXIT_USAGE;
    }

    const lock = await acquireStoreLock(store.lockPath, {
      waitMs: args.values.wait ? 24 * 3600_000 : 0,
      command: `dermatune run ${args.positionals[0]}`,
    });
    if (!lock.ok) {
      ctx.io.stderr(`${lock.error.message}\n`);
      return EXIT_USAGE;
    }
    const interrupts = ctx.interrupts?.() ?? { signal: new AbortController().signal, dispose() {} };
    let tracking: TrackingSession | undefined;
    try {
      await store.clearStaging();
      await writeSweepHistory(store, plan);
      const sweep = { ...sweepInfo(plan, store.root), executor: executor.value?.name ?? 'local' };
      const observers: RunObserver[] = [await reporterFor(args.values.json === true, ctx)];
      if (ctx.tracking && args.values['no-tracking'] !== true) {
        tracking = await ctx.tracking(sweep, ctx.io, ctx.pipeline);
        observers.push(tracking.observer);
      }
      const observer = combineObservers(observers);
      await observer.sweepStarted?.(sweep);
      await prepareStages(
        toRun.filter((node) => executor.value?.takes(node) !== true),
        ctx.io,
      );
      const result = await runStageGraph(plan.graph, {
        store,
        jobs: numbers.jobs,
        gpuSlots: numbers.gpus,
        llmConcurrency: numbers.llm,
        keepGoing: args.values['keep-going'] === true,
        force: forced.value,
        observer,
        signal: interrupts.signal,
        executor: executor.value,
      });
      await observer.sweepFinished?.(sweep, result.status);
      if (!args.values.json) {
        const failed = [...result.outcomes.values()].filter((o) => o.state === 'failed').length;
        const ran = [...result.outcomes.values()].filter((o) => o.state === 'done').length;
        const cached = [...result.outcomes.values()].filter((o) => o.state === 'cached').length;
        ctx.io.stderr(
          `\n${plan.specName}: ${result.status}. ${ran} stage(s) ran, ${cached} cached, ${failed} failed.${tracking ? ` Runs: ${tracking.where}` : ''}\n`,
        );
      }
      if (result.status === 'killed') return EXIT_INTERRUPTED;
      return result.status === 'failed' ? EXIT_STAGE_FAILED : EXIT_OK;
    } finally {
      await tracking?.close();
      interrupts.dispose();
      await lock.value.release();
    }
  },
};

/**
 * Runs every stage's `prepare` (an interpreter, a model build) at once, before the first stage
 * starts: set-up of different kinds runs side by side, and none of it competes with the stages.
 * On the 2-core machine the demo is measured on, installs beside the local LLM's two threads
 * slowed it about as much as they overlapped (a fresh clone's demo: 9 min 48 s and 10 min 0 s
 * beside, 9 min 59 s before), and which ran first depended on the lock's order from run to run;
 * before the stages the schedule is the same every time. A failure is not reported here: the
 * stage meets it again and reports it.
 */
async function prepareStages(nodes: SweepPlan['graph']['nodes'], io: CliContext['io']) {
  const started = Date.now();
  const kinds = new Set<string>();
  await Promise.all(
    nodes.map((node) => {
      if (!node.kind.prepare) return undefined;
      kinds.add(node.kind.name);
      return node.kind.prepare(node.params).catch(() => undefined);
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  // Only a first use takes long enough to mention.
  if (seconds >= 2) {
    io.stderr(`set up ${[...kinds].join(', ')} in ${seconds.toFixed(0)} s (first use)\n`);
  }
}

/** The Ray executor when the run asks for one, connected and checked against the cluster. */
async function connectExecutor(
  plan: SweepPlan,
  toRun: SweepPlan['graph']['nodes'],
  args: CommandArgs,
  ctx: CliContext,
): Promise<Result<StageExecutor | undefined, string>> {
  const choice = resolveExecutor(
    plan.variants.map((v) => v.spec),
    {
      executor: args.values.executor as string | undefined,
      rayAddress: args.values['ray-address'] as string | undefined,
      rayStorage: args.values['ray-storage'] as string | undefined,
    },
    ctx.io.env,
    ctx.io.cwd,
  );
  if (!choice.ok) return choice;
  if (choice.value.kind === 'local') return ok(undefined);
  // The Ray client (websockets, zip packaging) loads only for a run that goes to a cluster.
  const { RayExecutor } = await import('../../executors/ray/ray-executor.ts');
  const connected = await RayExecutor.connect(choice.value.ray, toRun);
  return connected.ok ? ok(connected.value) : fail(connected.error.message);
}

/** The terminal reporter, loaded when chosen: listr2 only for an interactive terminal. */
async function reporterFor(json: boolean, ctx: CliContext): Promise<RunObserver> {
  const write = (line: string) => ctx.io.stdout(`${line}\n`);
  if (json) return (await import('../../reporters/json-reporter.ts')).jsonReporter(write);
  const plain = !ctx.io.isTTY || ctx.io.env.CI === 'true' || ctx.io.env.CI === '1';
  if (plain) return (await import('../../reporters/plain-reporter.ts')).plainReporter(write);
  return (await import('../../reporters/listr-reporter.ts')).listrReporter();
}

export function sweepInfo(plan: SweepPlan, storeDir: string): SweepInfo {
  const keysOf = new Map(plan.graph.variants.map((v) => [v.name, v.nodeKeys]));
  return {
    specName: plan.specName,
    specPath: plan.specPath,
    sweepId: plan.sweepId,
    storeDir,
    variants: plan.variants.map((v) => ({
      name: v.name,
      description: v.description,
      axes: v.axes,
      spec: v.spec,
      nodeKeys: [...graphKeys(keysOf, v.name)],
    })),
    nodes: plan.graph.nodes.map((n) => ({
      id: n.id,
      kind: n.kind.name,
      key: n.key,
      variants: n.variants,
    })),
  };
}

/** Every planned variant is in the graph built from it; one that is not is a bug. */
function graphKeys(keysOf: Map<string, readonly string[]>, variant: string): readonly string[] {
  const keys = keysOf.get(variant);
  if (!keys) throw new Error(`variant ${variant} is missing from its own stage graph`);
  return keys;
}

function parseNumbers(
  values: Record<string, unknown>,
  ctx: CliContext,
): { jobs: number; gpus: number; llm: number } | undefined {
  const read = (name: string, fallback: number, min: number): number | undefined => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) {
      ctx.io.stderr(`--${name} must be an integer >= ${min} (got ${JSON.stringify(raw)})\n`);
      return undefined;
    }
    return n;
  };
  const jobs = read('jobs', 2, 1);
  const gpus = read('gpus', 1, 0);
  const llm = read('llm-concurrency', 1, 1);
  if (jobs === undefined || gpus === undefined || llm === undefined) return undefined;
  return { jobs, gpus, llm };
}
