import { appendFile } from 'node:fs/promises';
import type { ArtifactStore } from './artifact-store.ts';
import type { NodeInfo, NodeOutcome, RunObserver } from './run-events.ts';
import type { StageGraph, StageNode } from './stage-graph.ts';
import type { StageInputOutput } from './stage-kind.ts';

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
  const outcomes = new Map<string, NodeOutcome>();
  const outputDirs = new Map<string, string>();
  const pending = new Set(graph.nodes.map((n) => n.key as string));
  const running = new Map<string, Promise<void>>();
  const abortAll = new AbortController();
  const onAbort = () => abortAll.abort();
  options.signal.addEventListener('abort', onAbort, { once: true });
  const free = {
    cpu: Math.max(1, options.jobs),
    gpu: options.gpuSlots,
    llm: new Map<string, number>(),
  };
  let failed = false;

  try {
    while (pending.size > 0 || running.size > 0) {
      if (!abortAll.signal.aborted) {
        for (const node of graph.nodes) {
          if (!pending.has(node.key)) continue;
          const blocked = Object.values(node.inputs).some((k) => {
            const outcome = outcomes.get(k);
            return outcome !== undefined && outcome.state !== 'done' && outcome.state !== 'cached';
          });
          if (blocked) {
            pending.delete(node.key);
            const outcome: NodeOutcome = { state: 'skipped', reason: 'an input failed' };
            outcomes.set(node.key, outcome);
            await observer.nodeFinished?.(info(node), outcome);
            continue;
          }
          const ready = Object.values(node.inputs).every((k) => outputDirs.has(k));
          if (!ready || !take(node)) continue;
          pending.delete(node.key);
          const task = execute(node).finally(() => {
            give(node);
            running.delete(node.key);
          });
          running.set(node.key, task);
        }
      }
      if (running.size === 0) {
        // Nothing can start: aborted, or everything left depends on a failure.
        for (const key of pending) {
          const node = graph.nodes.find((n) => n.key === key);
          const outcome: NodeOutcome = {
            state: 'skipped',
            reason: abortAll.signal.aborted ? 'the run was stopped' : 'an input failed',
          };
          outcomes.set(key, outcome);
          if (node) await observer.nodeFinished?.(info(node), outcome);
        }
        pending.clear();
        break;
      }
      await Promise.race(running.values());
    }
  } finally {
    options.signal.removeEventListener('abort', onAbort);
  }
  const status = options.signal.aborted ? 'killed' : failed ? 'failed' : 'finished';
  return { status, outcomes };

  function take(node: StageNode): boolean {
    const cpu = Math.min(node.resources.cpu ?? 1, Math.max(1, options.jobs));
    const gpu = node.resources.gpu ?? 0;
    const llm = node.resources.llm;
    const llmFree = llm ? (free.llm.get(llm) ?? options.llmConcurrency) : 1;
    if (free.cpu < cpu || free.gpu < gpu || llmFree < 1) return false;
    free.cpu -= cpu;
    free.gpu -= gpu;
    if (llm) free.llm.set(llm, llmFree - 1);
    return true;
  }

  function give(node: StageNode): void {
    free.cpu += Math.min(node.resources.cpu ?? 1, Math.max(1, options.jobs));
    free.gpu += node.resources.gpu ?? 0;
    const llm = node.resources.llm;
    if (llm) free.llm.set(llm, (free.llm.get(llm) ?? 0) + 1);
  }

  async function execute(node: StageNode): Promise<void> {
    const started = Date.now();
    const nodeInfo = info(node);
    if (!options.force.has(node.key)) {
      const entry = await store.lookup(node.key);
      if (entry.state === 'present') {
        outputDirs.set(node.key, entry.outputDir);
        const outcome: NodeOutcome = {
          state: 'cached',
          durationMs: entry.manifest.durationMs,
          outputDir: entry.outputDir,
          summary: entry.manifest.summary,
        };
        outcomes.set(node.key, outcome);
        await observer.nodeFinished?.(nodeInfo, outcome);
        return;
      }
      if (entry.state === 'corrupt') {
        const where = await store.quarantine(node.key);
        observer.nodeReport?.(nodeInfo, {
          type: 'log',
          level: 'warn',
          message: `stored output was corrupt (${entry.why}); moved to ${where} and running again`,
        });
      }
    }
    if (!node.kind.run) {
      // Refused up front by the CLI; reaching here is a bug in the caller.
      throw new Error(`stage kind ${node.kind.name} has no run function`);
    }
    await observer.nodeStarted?.(nodeInfo);
    const staging = await store.openStaging(node.key);
    const nodeAbort = new AbortController();
    const relay = () => nodeAbort.abort();
    abortAll.signal.addEventListener('abort', relay, { once: true });
    const inputs: Record<string, StageInputOutput> = {};
    for (const [name, key] of Object.entries(node.inputs)) {
      const provider = graph.nodes.find((n) => n.key === key);
      inputs[name] = { dir: outputDirs.get(key) ?? '', key, kind: provider?.kind.name ?? '' };
    }
    let outcome: NodeOutcome;
    try {
      const result = await node.kind.run({
        params: node.params,
        inputs,
        outDir: staging.outputDir,
        key: node.key,
        signal: nodeAbort.signal,
        memo: store.memo(),
        logFile: staging.logFile,
        report: (event) => observer.nodeReport?.(nodeInfo, event),
      });
      const durationMs = Date.now() - started;
      if (result.ok && !nodeAbort.signal.aborted) {
        const outputDir = await store.commit(staging, {
          key: node.key,
          nodeId: node.id,
          record: node.record,
          startedAt: new Date(started).toISOString(),
          finishedAt: new Date().toISOString(),
          durationMs,
          summary: result.value,
        });
        outputDirs.set(node.key, outputDir);
        outcome = { state: 'done', durationMs, outputDir, summary: result.value };
      } else if (nodeAbort.signal.aborted) {
        await store.discard(staging, node.key);
        outcome = { state: 'cancelled', durationMs };
      } else {
        const log = await store.discard(staging, node.key);
        const error = result.ok ? { reason: 'cancelled', message: 'stopped' } : result.error;
        outcome = {
          state: 'failed',
          durationMs,
          reason: error.reason,
          message: log ? `${error.message} (log: ${log})` : error.message,
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
    outcomes.set(node.key, outcome);
    if (outcome.state === 'failed') {
      failed = true;
      if (!options.keepGoing) abortAll.abort();
    }
    await observer.nodeFinished?.(nodeInfo, outcome);
  }
}

export function info(node: StageNode): NodeInfo {
  return { id: node.id, kind: node.kind.name, key: node.key, variants: node.variants };
}
