import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, relative, sep } from 'node:path';
import { canonicalJson, sha256Hex } from '../canonical-json.ts';
import { redactSecrets, redactText } from '../redact-secrets.ts';
import type {
  NodeInfo,
  NodeOutcome,
  RunObserver,
  SweepInfo,
  SweepStatus,
  VariantInfo,
} from '../run-events.ts';
import type { StageReport } from '../stage-kind.ts';
import { copyToBlob, extensionOf, filesUnder, writeBlob } from './artifact-blobs.ts';
import { type DatasetFile, datasetInputs } from './dataset-inputs.ts';
import { flattenParams, paramText } from './flatten-params.ts';
import type { JournalOp } from './journal-entry.ts';
import { MetricBuffer, metricKey } from './metric-buffer.ts';
import type { MlflowRunStatus, MlflowTag } from './mlflow-types.ts';
import { outcomeBatch } from './outcome-batch.ts';
import type { RunLinks } from './tracking-state.ts';

/**
 * Turns the runner's events into MLflow runs: one experiment per spec name, one parent run per
 * sweep (the same parent across reruns, found through the durable sweep link), one child run per
 * variant that actually executes something. A variant whose every node was cached and which
 * already has a finished run is linked to that run and logs nothing.
 *
 * Hooks only journal (a local append); sending happens behind them, and no tracking failure is
 * ever allowed to fail the run. All work is serialised, so a variant's FINISHED always follows
 * everything logged to it.
 */
export interface MlflowObserverOptions {
  /** Journals one tracking call; resolves once it is on disk. */
  record: (op: JournalOp) => Promise<void>;
  links: RunLinks;
  /** Where redacted copies of generated artifacts (the resolved spec) are kept for upload. */
  blobsDir: string;
  secretValues: readonly string[];
  /** Source tags for every run (entry point, git commit and branch, user). */
  sourceTags: () => Promise<MlflowTag[]>;
  userId: string;
  /** How often streamed step metrics are written as one batch. */
  metricFlushMs?: number;
  log?: (line: string) => void;
  /**
   * Metric prefix per stage kind, as the kinds declare it (`kindTracking`); names that already
   * contain `/` are kept as they are, and a kind without one is prefixed with its name.
   */
  metricPrefixes?: Readonly<Record<string, string>>;
  /** Which output files of which node kinds are a variant's dataset inputs (`kindTracking`). */
  datasetFiles?: Readonly<Record<string, readonly DatasetFile[]>>;
  /** Metric steps already journalled for a run, for resuming it without doubling them. */
  journalledSteps?: (ref: string) => Promise<Map<string, Set<number>>>;
}

interface SweepState {
  info: SweepInfo;
  /** Set once the sweep is opened in MLflow: not before something of it needs logging. */
  parentRef?: string;
  /** By stage key, the one identity of a node. */
  nodes: Map<string, NodeInfo>;
  variants: Map<string, VariantState>;
  tags: MlflowTag[];
}

interface VariantState {
  info: VariantInfo;
  identity: string;
  ref?: string;
  /** By stage key. */
  outcomes: Map<string, NodeOutcome>;
  metrics: MetricBuffer;
  startedAt?: number;
  closed: boolean;
}

export class MlflowObserver implements RunObserver {
  readonly #options: MlflowObserverOptions;
  readonly #prefixes: Readonly<Record<string, string>>;
  readonly #datasets: Readonly<Record<string, readonly DatasetFile[]>>;
  readonly #sweeps = new Map<string, SweepState>();
  #serial: Promise<void> = Promise.resolve();
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(options: MlflowObserverOptions) {
    this.#options = options;
    this.#prefixes = options.metricPrefixes ?? {};
    this.#datasets = options.datasetFiles ?? {};
  }

  sweepStarted(sweep: SweepInfo): Promise<void> {
    return this.#queue(() => this.#startSweep(sweep));
  }

  nodeStarted(node: NodeInfo): Promise<void> {
    const at = Date.now();
    return this.#queue(async () => {
      for (const variant of this.#variantsOf(node)) variant.startedAt ??= at;
    });
  }

  nodeReport(node: NodeInfo, report: StageReport): void {
    if (report.type !== 'metric' || !Number.isFinite(report.value)) return;
    const at = Date.now();
    void this.#queue(async () => {
      for (const variant of this.#variantsOf(node)) {
        const sweep = this.#sweepOf(variant);
        if (!sweep) continue;
        await this.#ensureRun(sweep, variant);
        const key = metricKey(this.#prefixes, node.kind, report.name);
        if (variant.metrics.add(key, report.value, at, report.step)) await this.#flush(variant);
      }
      this.#scheduleFlush();
    });
  }

  nodeFinished(node: NodeInfo, outcome: NodeOutcome): Promise<void> {
    return this.#queue(async () => {
      for (const variant of this.#variantsOf(node)) {
        const sweep = this.#sweepOf(variant);
        if (!sweep) continue;
        const hadRun = variant.ref !== undefined;
        variant.outcomes.set(node.key, outcome);
        if (hadRun) {
          await this.#logOutcome(sweep, variant, node, outcome);
        } else if (outcome.state !== 'cached' && outcome.state !== 'skipped') {
          // Creating the run logs every outcome recorded so far, this one included.
          await this.#ensureRun(sweep, variant);
        }
        if (variant.info.nodeKeys.every((key) => variant.outcomes.has(key))) {
          await this.#closeVariant(sweep, variant);
        }
      }
    });
  }

  sweepFinished(sweep: SweepInfo, status: SweepStatus): Promise<void> {
    return this.#queue(async () => {
      const state = this.#sweeps.get(sweep.sweepId);
      if (!state) return;
      for (const variant of state.variants.values()) {
        if (variant.closed || !variant.ref) continue;
        // A variant left open here was interrupted: by Ctrl-C, or by a failure elsewhere.
        await this.#finishRun(variant, status === 'killed' ? 'KILLED' : 'FAILED');
      }
      if (state.parentRef) {
        await this.#options.record({
          op: 'update-run',
          ref: state.parentRef,
          status: SWEEP_STATUS[status],
          endTime: Date.now(),
        });
      }
      this.#sweeps.delete(sweep.sweepId);
    });
  }

  /**
   * Ends as KILLED whatever a sweep left open because sweepFinished never came (the runner
   * threw); a no-op after a normal sweep. Used when tracking closes.
   */
  abandonOpenSweeps(): Promise<void> {
    return this.#queue(async () => {
      for (const state of this.#sweeps.values()) {
        for (const variant of state.variants.values()) await this.#finishRun(variant, 'KILLED');
        if (!state.parentRef) continue;
        await this.#options.record({
          op: 'update-run',
          ref: state.parentRef,
          status: 'KILLED',
          endTime: Date.now(),
        });
      }
      this.#sweeps.clear();
    });
  }

  /**
   * Attaches files to a sweep's parent run (the report `dermatune table` writes). Each file is
   * copied into the blob folder first, so a later rewrite of the report cannot change what a
   * replay uploads. Resolves false when no run of this sweep was ever tracked.
   */
  logSweepFiles(
    sweepId: string,
    files: readonly { file: string; artifactPath: string }[],
  ): Promise<boolean> {
    let logged = false;
    return this.#queue(async () => {
      const ref = this.#options.links.sweepRef(sweepId);
      if (!ref) return;
      for (const { file, artifactPath } of files) {
        const blob = await copyToBlob(this.#options.blobsDir, file);
        await this.#options.record({ op: 'upload-artifact', ref, file: blob, artifactPath });
      }
      logged = true;
    }).then(() => logged);
  }

  /** Writes buffered step metrics and waits for every queued hook; used before closing. */
  flush(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    return this.#queue(async () => {
      for (const sweep of this.#sweeps.values()) {
        for (const variant of sweep.variants.values()) await this.#flush(variant);
      }
    });
  }

  async #startSweep(sweep: SweepInfo): Promise<void> {
    const source = await this.#options.sourceTags();
    const nodes = new Map(sweep.nodes.map((n) => [n.key, n]));
    const tags: MlflowTag[] = [
      ...source.map((t) =>
        t.key === 'mlflow.source.name' ? { ...t, value: `${t.value} ${sweep.specPath}` } : t,
      ),
      { key: 'dermatune.sweep_id', value: sweep.sweepId },
      { key: 'dermatune.spec_path', value: sweep.specPath },
    ];
    const variants = new Map<string, VariantState>();
    for (const info of sweep.variants) {
      const keys = [...info.nodeKeys].sort();
      variants.set(info.name, {
        info,
        identity: sha256Hex(canonicalJson({ sweepId: sweep.sweepId, variant: info.name, keys })),
        outcomes: new Map(),
        metrics: new MetricBuffer(),
        closed: false,
      });
    }
    this.#sweeps.set(sweep.sweepId, { info: sweep, nodes, variants, tags });
  }

  /**
   * Creates (or reopens) the sweep's parent run. Deferred to the first child run, so a fully
   * cached rerun records nothing at all and never needs the server.
   */
  async #openSweep(state: SweepState): Promise<string> {
    if (state.parentRef) return state.parentRef;
    const { links, record } = this.#options;
    const sweep = state.info;
    let parentRef = links.sweepRef(sweep.sweepId);
    if (parentRef) {
      await record({ op: 'update-run', ref: parentRef, status: 'RUNNING' });
    } else {
      parentRef = crypto.randomUUID();
      await record({
        op: 'create-run',
        ref: parentRef,
        experiment: sweep.specName,
        runName: sweep.specName,
        startTime: Date.now(),
        userId: this.#options.userId,
        tags: [...state.tags, { key: 'dermatune.role', value: 'sweep' }],
      });
      await links.record({ type: 'sweep', sweepId: sweep.sweepId, ref: parentRef });
    }
    state.parentRef = parentRef;
    await record({
      op: 'log-batch',
      ref: parentRef,
      metrics: [],
      params: [],
      tags: [
        { key: 'dermatune.variants', value: sweep.variants.map((v) => v.name).join(', ') },
        {
          key: 'mlflow.note.content',
          value: `Sweep of ${sweep.variants.length} variants from ${sweep.specPath}`,
        },
      ],
    });
    if (existsSync(sweep.specPath)) {
      const text = redactText(await readFile(sweep.specPath, 'utf8'), this.#options.secretValues);
      const blob = await writeBlob(this.#options.blobsDir, text, extensionOf(sweep.specPath));
      await record({
        op: 'upload-artifact',
        ref: parentRef,
        file: blob,
        artifactPath: `spec/${basename(sweep.specPath)}`,
      });
    }
    return parentRef;
  }

  /** Creates the variant's child run on the first sign that one of its nodes really runs. */
  async #ensureRun(sweep: SweepState, variant: VariantState, fromCache = false): Promise<void> {
    if (variant.ref) return;
    const { record, secretValues, links } = this.#options;
    const parentRef = await this.#openSweep(sweep);
    const attempt = links.attemptRef(variant.identity);
    if (!fromCache && attempt && !links.variantRef(variant.identity)) {
      // An earlier session started this variant and died (or was stopped): carry on in its run
      // rather than leaving a KILLED twin beside the finished one.
      variant.ref = attempt;
      variant.metrics.resume((await this.#options.journalledSteps?.(attempt)) ?? new Map());
      await record({ op: 'update-run', ref: attempt, status: 'RUNNING' });
      await this.#logOutcomesSoFar(sweep, variant);
      return;
    }
    const ref = crypto.randomUUID();
    variant.ref = ref;
    if (!fromCache) {
      await links.record({ type: 'attempt', identity: variant.identity, ref, open: true });
    }
    const info = redactSecrets(variant.info, secretValues);
    const tags: MlflowTag[] = [
      ...sweep.tags,
      { key: 'dermatune.role', value: 'variant' },
      { key: 'dermatune.variant', value: info.name },
      { key: 'dermatune.variant_identity', value: variant.identity },
      ...Object.entries(info.axes).map(([key, value]) => ({
        key: `axis.${key}`,
        value: paramText(value),
      })),
    ];
    if (info.description) tags.push({ key: 'mlflow.note.content', value: info.description });
    if (fromCache) tags.push({ key: 'dermatune.from_cache', value: 'true' });
    if (!fromCache && sweep.info.executor) {
      tags.push({ key: 'dermatune.executor', value: sweep.info.executor });
    }
    await record({
      op: 'create-run',
      ref,
      experiment: sweep.info.specName,
      runName: info.name,
      startTime: variant.startedAt ?? Date.now(),
      userId: this.#options.userId,
      tags,
      parentRef,
    });
    await record({
      op: 'log-batch',
      ref,
      metrics: [],
      // Where stages ran is not a parameter of the experiment (it is in no key either): it is
      // the dermatune.executor tag, so a local run and a cluster run compare param for param.
      params: flattenParams(withoutExecutor(info.spec)),
      tags: [],
    });
    const specText = `${JSON.stringify(info.spec, null, 2)}\n`;
    const spec = await writeBlob(this.#options.blobsDir, specText, 'json');
    await record({ op: 'upload-artifact', ref, file: spec, artifactPath: 'spec/variant.json' });
    await this.#logOutcomesSoFar(sweep, variant);
  }

  /** Nodes that finished (from the cache, or before this run existed) still belong in it. */
  async #logOutcomesSoFar(sweep: SweepState, variant: VariantState): Promise<void> {
    for (const [key, outcome] of variant.outcomes) {
      const node = sweep.nodes.get(key);
      if (node) await this.#logOutcome(sweep, variant, node, outcome);
    }
  }

  async #logOutcome(
    sweep: SweepState,
    variant: VariantState,
    node: NodeInfo,
    outcome: NodeOutcome,
  ): Promise<void> {
    const ref = variant.ref;
    if (!ref) return;
    await this.#flush(variant);
    const { metrics, tags } = outcomeBatch(node, outcome, {
      now: Date.now(),
      metricKey: (name) => metricKey(this.#prefixes, node.kind, name),
      alreadyLogged: (key, step) => variant.metrics.alreadyLogged(key, step),
    });
    await this.#options.record({ op: 'log-batch', ref, metrics, params: [], tags });
    if (outcome.state !== 'done' && outcome.state !== 'cached') return;

    for (const rel of outcome.summary.artifacts ?? []) {
      for (const file of await filesUnder(outcome.outputDir, rel)) {
        const inside = relative(outcome.outputDir, file).split(sep).join('/');
        await this.#options.record({
          op: 'upload-artifact',
          ref,
          file,
          artifactPath: `${node.kind}/${inside}`,
        });
      }
    }
    const datasets = await datasetInputs({
      datasets: this.#datasets,
      specName: sweep.info.specName,
      node,
      variantKinds: variant.info.nodeKeys.flatMap((key) => sweep.nodes.get(key)?.kind ?? []),
      outputDir: outcome.outputDir,
    });
    if (datasets.length > 0) await this.#options.record({ op: 'log-inputs', ref, datasets });
  }

  async #closeVariant(sweep: SweepState, variant: VariantState): Promise<void> {
    if (variant.closed) return;
    const outcomes = [...variant.outcomes.values()];
    const status = variantStatus(outcomes);
    if (!variant.ref) {
      const allCached = outcomes.every((o) => o.state === 'cached');
      // Skipped without anything of its own having run: the sweep stopped before it began.
      const neverBegan = outcomes.some((o) => o.state === 'skipped');
      if (neverBegan || (allCached && this.#options.links.variantRef(variant.identity))) {
        variant.closed = true;
        return;
      }
      // Stored outputs without a run (tracking was off, or its journal was lost): rebuild it.
      await this.#ensureRun(sweep, variant, allCached);
    }
    // Stopped before its own stages ran: KILLED or FAILED as the sweep ends (see sweepFinished).
    if (status === undefined) return;
    await this.#finishRun(variant, status);
    if (status === 'FINISHED' && variant.ref) {
      await this.#options.links.record({
        type: 'variant',
        identity: variant.identity,
        ref: variant.ref,
        variant: variant.info.name,
      });
    }
  }

  async #finishRun(variant: VariantState, status: MlflowRunStatus): Promise<void> {
    if (!variant.ref || variant.closed) return;
    await this.#flush(variant);
    variant.closed = true;
    if (status === 'FAILED') {
      // A failure stays on record; the retry starts a run of its own beside it.
      const closed = {
        type: 'attempt',
        identity: variant.identity,
        ref: variant.ref,
        open: false,
      } as const;
      await this.#options.links.record(closed);
    }
    await this.#options.record({ op: 'update-run', ref: variant.ref, status, endTime: Date.now() });
  }

  async #flush(variant: VariantState): Promise<void> {
    if (!variant.ref) return;
    const metrics = variant.metrics.take();
    if (metrics.length === 0) return;
    await this.#options.record({
      op: 'log-batch',
      ref: variant.ref,
      metrics,
      params: [],
      tags: [],
    });
  }

  #scheduleFlush(): void {
    if (this.#flushTimer) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      void this.#queue(async () => {
        for (const sweep of this.#sweeps.values()) {
          for (const variant of sweep.variants.values()) await this.#flush(variant);
        }
      });
    }, this.#options.metricFlushMs ?? 1_000);
    this.#flushTimer.unref();
  }

  #variantsOf(node: NodeInfo): VariantState[] {
    const out: VariantState[] = [];
    for (const sweep of this.#sweeps.values()) {
      for (const name of node.variants) {
        const variant = sweep.variants.get(name);
        if (variant?.info.nodeKeys.includes(node.key)) out.push(variant);
      }
    }
    return out;
  }

  #sweepOf(variant: VariantState): SweepState | undefined {
    for (const sweep of this.#sweeps.values()) {
      if (sweep.variants.get(variant.info.name) === variant) return sweep;
    }
    return undefined;
  }

  /** Runs tracking work in order; a failure is logged, never passed to the runner. */
  #queue(task: () => Promise<void>): Promise<void> {
    const next = this.#serial.then(task).catch((error: unknown) => {
      this.#options.log?.(
        `tracking: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    });
    this.#serial = next;
    return next;
  }
}

const SWEEP_STATUS: Record<SweepStatus, MlflowRunStatus> = {
  finished: 'FINISHED',
  failed: 'FAILED',
  killed: 'KILLED',
};

/** Undefined when stages were only skipped: whether that was a stop or a failure is the sweep's. */
function variantStatus(outcomes: NodeOutcome[]): MlflowRunStatus | undefined {
  if (outcomes.some((o) => o.state === 'cancelled')) return 'KILLED';
  if (outcomes.some((o) => o.state === 'failed')) return 'FAILED';
  if (outcomes.some((o) => o.state === 'skipped')) return undefined;
  return 'FINISHED';
}

function withoutExecutor(spec: Record<string, unknown>): Record<string, unknown> {
  const { executor: _executor, ...rest } = spec;
  return rest;
}
