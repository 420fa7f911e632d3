import type { Result } from '../result.ts';
import type {
  StageContext,
  StageFailure,
  StageInputs,
  StageReport,
  StageSummary,
} from '../stage-kind.ts';

/**
 * What a stage kind declares so that a remote executor (a Ray cluster) can run it: the job to
 * submit, how to read its output stream, and how to summarise it once its output is back. The
 * kind's own `run` stays the local path; both must write the same output for the same key.
 */
export interface RemoteStage<P, I extends string = string, O extends string = string> {
  /** Builds the job. Paths in the context are on storage the cluster shares with the runner. */
  job(ctx: RemoteJobContext<P, I, O>): Promise<Result<RemoteJob, StageFailure>>;
  /** Reads the job's output, one line at a time as it streams: progress, metrics, warnings. */
  reports(line: string): StageReport[];
  /** The job's verdict from its whole output: its result, its own failure, or none at all. */
  outcome(lines: readonly string[]): RemoteOutcome;
  /** The stage's summary, once the output is back in `ctx.outDir` (a local staging folder). */
  summarize(
    ctx: StageContext<P, I, O>,
    result: unknown,
  ): Promise<Result<StageSummary, StageFailure>> | Result<StageSummary, StageFailure>;
}

export interface RemoteJobContext<P, I extends string = string, O extends string = string> {
  readonly params: P;
  /** The inputs' outputs, put on the job storage (their `dir` is the job's path). */
  readonly inputs: StageInputs<I, O>;
  /** Where the job must write its output (as the job sees it: on the job storage). */
  readonly outDir: string;
  /**
   * The key's resume folder as the job sees it (checkpoints): a job lost with its node and
   * submitted again finds its predecessor's checkpoints there.
   */
  readonly resumeDir: string;
  readonly key: string;
  /** Writes a file of the job's own (its description); returns the path the job opens. */
  writeJobFile(name: string, content: string): Promise<string>;
  /** Puts a local folder (a model) on the job storage once, by content; returns the job's path. */
  share(localDir: string): Promise<string>;
}

export interface RemoteJob {
  /** Shell command, run in the unpacked code folder. */
  entrypoint: string;
  /** The folder shipped to the cluster as the job's working directory, and what of it to ship. */
  code: { dir: string; include: (relativePath: string) => boolean };
  /** Pinned requirement lines the job's Python environment must satisfy. */
  requirements: string[];
  /** Environment for the job; never secrets (a cluster's dashboard shows them). */
  env?: Record<string, string>;
}

export type RemoteOutcome =
  /** The job reported its result (whatever the stage makes of it in `summarize`). */
  | { state: 'done'; result: unknown }
  /** The job reported its own failure; `cancelled` when it was told to stop. */
  | { state: 'failed'; failure: StageFailure; cancelled: boolean }
  /** The job ended without a verdict (killed, its node lost). */
  | { state: 'no-result' };
