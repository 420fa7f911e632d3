import type { Result } from '../result.ts';
import type { StageNode } from '../stage-graph.ts';
import type { StageContext, StageFailure, StageSummary } from '../stage-kind.ts';

/**
 * Where a stage runs when not in this process. The scheduler still owns the store: it opens
 * the staging folder, and commits or discards it, whatever executor ran the stage, so a remote
 * stage gets the same atomic, key-checked commit as a local one.
 */
export interface StageExecutor {
  /** Shown in logs: `ray at http://...`. */
  readonly name: string;
  /** Whether this node runs through this executor; the rest run locally. */
  takes(node: StageNode): boolean;
  /** How many of its nodes may run at once (the cluster's capacity for them). */
  readonly slots: number;
  /** Runs the node; its output must end up in `ctx.outDir`, like a local stage's. */
  run(node: StageNode, ctx: StageContext<unknown>): Promise<Result<StageSummary, StageFailure>>;
  /** The node's output is in the store: what the executor kept for it may go. */
  committed?(node: StageNode): Promise<void>;
}
