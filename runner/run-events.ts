import type { StageReport, StageSummary } from './stage-kind.ts';

/**
 * What the runner tells its observers while a sweep runs. Reporters (terminal progress, JSON
 * events) and tracking (MLflow) each implement the hooks they need; the runner calls them in
 * order and never waits on a slow observer for longer than the hook's own promise.
 */
export interface RunObserver {
  sweepStarted?(sweep: SweepInfo): Promise<void> | void;
  nodeStarted?(node: NodeInfo): Promise<void> | void;
  nodeReport?(node: NodeInfo, report: StageReport): void;
  nodeFinished?(node: NodeInfo, outcome: NodeOutcome): Promise<void> | void;
  sweepFinished?(sweep: SweepInfo, status: SweepStatus): Promise<void> | void;
}

export interface SweepInfo {
  /** The spec's `name`: one MLflow experiment per spec name. */
  specName: string;
  specPath: string;
  /**
   * Stable identity of the sweep: the spec path relative to the project plus the spec name.
   * Reruns and added variants map onto the same parent run through it.
   */
  sweepId: string;
  variants: VariantInfo[];
  nodes: NodeInfo[];
  /** The store root, where observers keep their own durable state (tracking journal). */
  storeDir: string;
  /** Where the stages that may leave this machine run: `local`, or `ray at <address>`. */
  executor?: string;
}

export interface VariantInfo {
  name: string;
  description?: string;
  /** Sweep axis values that made this variant, by dotted key path. */
  axes: Record<string, unknown>;
  /** The fully resolved spec of this variant (defaults applied, secrets never present). */
  spec: Record<string, unknown>;
  /** Stage keys of every node this variant needs, upstream first (a key is a node's identity). */
  nodeKeys: string[];
}

export interface NodeInfo {
  /** For display only (`split`, `train[full-500]`); `key` is what names the node. */
  id: string;
  kind: string;
  key: string;
  variants: string[];
}

export type NodeOutcome =
  | {
      state: 'done' | 'cached';
      durationMs: number;
      /** The committed output folder of the node. */
      outputDir: string;
      summary: StageSummary;
    }
  | { state: 'failed'; durationMs: number; reason: string; message: string }
  | { state: 'cancelled'; durationMs: number }
  | { state: 'skipped'; reason: string };

export type SweepStatus = 'finished' | 'failed' | 'killed';
