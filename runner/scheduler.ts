import { appendFile } from 'node:fs/promises';
import type { ArtifactStore } from './artifact-store.ts';
import { CheckpointStore } from './checkpoint-store.ts';
import type { StageExecutor } from './executors/stage-executor.ts';
import { ResourceSlots, type SlotDemand } from './resource-slots.ts';
import type { NodeInfo, NodeOutcome, RunObserver } from './run-events.ts';
import type { StageGraph, StageNode } from './stage-graph.ts';
import type { StageInputOutput, StageReport } from './stage-kind.ts';

export interface ScheduleOptions {
  store: ArtifactStore;
  /** CPU slots: how many stages run at once (a stage takes `resources.cpu` of them). */
  jobs: number;
  gpuSlots: number;
  /** LLM stages running at once against each provider. */
  llmConcurrency: number;
  keepGoing: boolean;
  /** Node keys to run again even though they are stored. */
  force: ReadonlySet<string>;
  observer: RunObserver;
  signal: AbortSignal;
  /** Runs the nodes it takes elsewhere (a Ray cluster); absent, everything runs here. */
  executor?: StageExecutor;
}

export interface ScheduleResult {
  status: 'finished' | 'failed' | 'killed';
  outcomes: Map<string, NodeOutcome>;
}

/**
 * Runs a stage graph: stored nodes are hits, the rest run in topological order as their
 * inputs become ready and their resources free up. Fail fast by default: the first failure
 * stops new launches and aborts running stages; with keepGoing, only the failed node's
 * dependents are skipped.
 */
export async function runStageGraph(
  graph: StageGraph,
  options: ScheduleOptions,
): Promise<ScheduleResult> {
  const { store, observer } = options;
  const checkpoints = new CheckpointStore(store.root);
  const outcomes = new Map<string, NodeOutcome>();
  const outputDirs = new Map<string, string>();
  const byKey = new Map(graph.nodes.map((n) => [n.key as string, n]));
  const dependents = new Map<string, StageNode[]>();
  const waiting = new Map<string, number>();
  for (const node of graph.nodes) {
    const inputKeys = new Set(Object.values(node.inputs));
    waiting.set(node.key, inputKeys.size);
    for (const key of inputKeys) dependents.set(key, [...(dependents.get(key) ?? []), node]);
  }
  const running = new Map<string, Promise<void>>();
  const ready: StageNode[] = [];
  const abortAll = new AbortController();
  const onAbort = () => abortAll.abort();
  options.signal.addEventListener('abort', onAbort, { once: true });
  const slots = new ResourceSlots({
    jobs: options.jobs,
    gpuSlots: options.gpuSlots,
    llmConcurrency: options.llmConcurrency,
    remoteSlots: options.executor?.slots ?? 0,
  });
  const remote = (node: StageNode): boolean => options.executor?.takes(node) === true;
  // A remote node occupies a slot of the cluster, not this machine's CPUs or GPUs.
  const demand = (node: StageNode): SlotDemand =>
    remote(node) ? { remote: true } : { remote: false, resources: node.resources };
  // Stored inputs are hashed once per run, when the first stage that reads them starts: a
  // fully cached rerun reads nothing, and a same-size change cannot slip into a new output.
  const inputChecks = new Map<string, Promise<string | undefined>>();
  let failed = false;

  try {
    // Store look-ups first, all at once: on a re-run most nodes are hits and need no slot.
    const entries = await Promise.all(
      graph.nodes.map((n) => (options.force.has(n.key) ? undefined : store.lookup(n.key))),
    );
    for (const [index, node] of graph.nodes.entries()) {
      const entry = entries[index];
      if (entry?.state === 'present') {
        outputDirs.set(node.key, entry.outputDir);
        await finish(node, {
          state: 'cached',
          durationMs: entry.manifest.durationMs,
          outputDir: entry.outputDir,
          summary: entry.manifest.summary,
        });
      }
    }
    for (const node of graph.nodes) {
      if (!outcomes.has(node.key) && waiting.get(node.key) === 0 && !ready.includes(node)) {
        ready.push(node);
      }
    }
    for (;;) {
      if (!abortAll.signal.aborted) {
        for (let i = 0; i < ready.length; ) {
          const node = ready[i] as StageNode;
          if (outcomes.has(node.key) || running.has(node.key)) {
            ready.splice(i, 1);
            continue;
          }
          if (!slots.take(demand(node))) {
            i++;
            continue;
          }
          ready.splice(i, 1);
          const task = execute(node).finally(() => {
            slots.give(demand(node));
            running.delete(node.key);
          });
          running.set(node.key, task);
        }
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
    // Whatever never started: stopped by the user, or downstream of a failure.
    for (const node of graph.nodes) {
      if (outcomes.has(node.key)) continue;
      await finish(node, {
        state: 'skipped',
        reason: abortAll.signal.aborted ? 'the run was stopped' : 'an input failed',
      });
    }
  } finally {
    options.signal.removeEventListener('abort', onAbort);
  }
  const status = options.signal.aborted ? 'killed' : failed ? 'failed' : 'finished';
  return { status, outcomes };

  async function finish(node: StageNode, outcome: NodeOutcome): Promise<void> {
    outcomes.set(node.key, outcome);
    await observer.nodeFinished?.(info(node), outcome);
    const success = outcome.state === 'done' || outcome.state === 'cached';
    for (const dependent of dependents.get(node.key) ?? []) {
      if (outcomes.has(dependent.key)) continue;
      if (success) {
        const left = (waiting.get(dependent.key) ?? 1) - 1;
        waiting.set(dependent.key, left);
        if (left === 0) ready.push(dependent);
      } else if (outcome.state !== 'cancelled') {
        await finish(dependent, {
          state: 'skipped',
          reason: `its input ${node.id} did not finish`,
        });
      }
    }
  }

  /** Why a stored input of `node` cannot be trusted (it is then moved aside), or undefined. */
  async function checkStoredInputs(node: StageNode): Promise<string | undefined> {
    for (const key of new Set(Object.values(node.inputs))) {
      if (outcomes.get(key)?.state !== 'cached') continue;
      let check = inputChecks.get(key);
      if (!check) {
        check = (async () => {
          const entry = await store.lookup(key);
          const why =
            entry.state === 'present'
              ? await store.verifyContent(entry)
              : entry.state === 'corrupt'
                ? entry.why
                : 'it is gone from the store';
          if (why === undefined) return undefined;
          const where = entry.state === 'absent' ? undefined : await store.quarantine(key);
          const id = byKey.get(key)?.id ?? key;
          return `its stored input ${id} failed verification (${why})${where ? `; moved to ${where}` : ''}; run again to recompute it`;
        })();
        inputChecks.set(key, check);
      }
      const why = await check;
      if (why) return why;
    }
    return undefined;
  }

  async function execute(node: StageNode): Promise<void> {
    const started = Date.now();
    const nodeInfo = info(node);
    const entry = await store.lookup(node.key);
    if (entry.state === 'corrupt') {
      const where = await store.quarantine(node.key);
      observer.nodeReport?.(nodeInfo, {
        type: 'log',
        level: 'warn',
        message: `stored output was corrupt (${entry.why}); moved to ${where} and running again`,
      });
    }
    const executor = remote(node) ? options.executor : undefined;
    if (!node.kind.run && !executor) {
      // Refused up front by the CLI; reaching here is a bug in the caller.
      throw new Error(`stage kind ${node.kind.name} has no run function`);
    }
    const damaged = await checkStoredInputs(node);
    if (damaged) {
      failed = true;
      if (!options.keepGoing) abortAll.abort();
      await finish(node, {
        state: 'failed',
        durationMs: Date.now() - started,
        reason: 'corrupt-input',
        message: damaged,
      });
      return;
    }
    await observer.nodeStarted?.(nodeInfo);
    const staging = await store.openStaging(node.key);
    const nodeAbort = new AbortController();
    const relay = () => nodeAbort.abort();
    abortAll.signal.addEventListener('abort', relay, { once: true });
    const inputs: Record<string, StageInputOutput> = {};
    for (const [name, key] of Object.entries(node.inputs)) {
      const provider = byKey.get(key);
      inputs[name] = { dir: outputDirs.get(key) ?? '', key, kind: provider?.kind.name ?? '' };
    }
    let outcome: NodeOutcome;
    try {
      const ctx = {
        params: node.params,
        inputs,
        outDir: staging.outputDir,
        key: node.key,
        signal: nodeAbort.signal,
        memo: store.memo(),
        logFile: staging.logFile,
        cacheDir: store.cacheDir(node.kind.name),
        // Not created here: only stages that keep resumable state make it.
        resumeDir: checkpoints.dir(node.key),
        report: (event: StageReport) => observer.nodeReport?.(nodeInfo, event),
      };
      const result = executor
        ? await executor.run(node, ctx)
        : await (node.kind.run as NonNullable<typeof node.kind.run>)(ctx);
      const durationMs = Date.now() - started;
      if (result.ok && !nodeAbort.signal.aborted) {
        const outputDir = await store.commit(
          staging,
          {
            key: node.key,
            nodeId: node.id,
            record: node.record,
            startedAt: new Date(started).toISOString(),
            finishedAt: new Date().toISOString(),
            durationMs,
            summary: result.value,
          },
          { replace: options.force.has(node.key) },
        );
        outputDirs.set(node.key, outputDir);
        // The output is whole now: checkpoints towards it are spent.
        await checkpoints.remove(node.key);
        await executor?.committed?.(node);
        outcome = { state: 'done', durationMs, outputDir, summary: result.value };
      } else if (nodeAbort.signal.aborted) {
        await store.discard(staging, node.key);
        outcome = { state: 'cancelled', durationMs };
      } else {
        const log = await store.discard(staging, node.key);
        const error = result.ok ? { reason: 'cancelled', message: 'stopped' } : result.error;
        // The staging folder is gone: a message pointing at the log in it points at the kept copy.
        const message = log ? error.message.replaceAll(staging.logFile, log) : error.message;
        outcome = {
          state: 'failed',
          durationMs,
          reason: error.reason,
          message: log && !message.includes(log) ? `${message} (log: ${log})` : message,
        };
      }
    } catch (error) {
      // A stage threw: a bug in that stage. Keep the stack in its log, fail the node.
      const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
      await appendFile(staging.logFile, `\n${stack}\n`).catch(() => {});
      const log = await store.discard(staging, node.key);
      outcome = {
        state: 'failed',
        durationMs: Date.now() - started,
        reason: 'internal-error',
        message: `${error instanceof Error ? error.message : String(error)} (a bug in stage ${node.kind.name}; stack in ${log})`,
      };
    } finally {
      abortAll.signal.removeEventListener('abort', relay);
    }
    if (outcome.state === 'failed') {
      failed = true;
      if (!options.keepGoing) abortAll.abort();
    }
    await finish(node, outcome);
  }
}

export function info(node: StageNode): NodeInfo {
  return { id: node.id, kind: node.kind.name, key: node.key, variants: node.variants };
}
