import type { RemoteStage } from './executors/remote-stage.ts';
import type { ParamsSchemaCheck } from './params-schema-check.ts';
import type { PreflightCheck, PreflightContext, StageEstimate } from './preflight-check.ts';
import type { Result } from './result.ts';

/**
 * The contract every stage kind fulfils. The runner core knows nothing of what a stage does;
 * it only needs enough to key, schedule, run and store it.
 */
export interface StageKind<
  P = Record<string, unknown>,
  I extends string = string,
  O extends string = string,
> {
  /** kebab-case, unique; also the folder name under `stages/`. */
  readonly name: string;
  /** Bumped whenever the output for the same inputs would change; part of the key. */
  readonly version: number;
  /** One line for `plan` and `--help`. */
  readonly description: string;
  /** JSON Schema (draft 2020-12) of the params this kind reads, with descriptions and defaults. */
  readonly paramsSchema: Record<string, unknown>;
  /** Names of the inputs this kind expects; wiring them to other nodes is the pipeline's job. */
  readonly inputs: readonly I[];
  /** Inputs the pipeline may leave unwired (generation without an adapter, for a baseline). */
  readonly optionalInputs?: readonly O[];
  /**
   * The files this kind writes into its output folder, by name (`test: 'test.jsonl'`). Readers
   * of its output take the names from here, so renaming a file is a type error where it is read.
   */
  readonly outputs?: Readonly<Record<string, string>>;
  /** What tracking makes of this kind's outputs and metrics (runner/tracking). */
  readonly tracking?: StageTracking;
  /**
   * Nondeterministic kinds (LLM calls, GPU training) are never silently rerun once stored:
   * a stored output is reused until the user forces a rerun.
   */
  readonly deterministic: boolean;
  /** What the stage occupies while it runs; may depend on params (the LLM provider in use). */
  readonly resources: StageResources | ((params: P) => StageResources);
  /**
   * Whatever else decides the output besides params and inputs: model ids and revisions,
   * prompt template text, worker code and its pinned requirements. Each value is a digest
   * or an exact identifier; it enters the key and the stored record.
   */
  fingerprints?(
    params: P,
    ctx: FingerprintContext,
  ): Promise<Record<string, string>> | Record<string, string>;
  /**
   * Proofs that need more than the schema, made before anything runs or is paid for: a
   * credential is set and accepted, a model is still served, a file exists. Each external part
   * the stage uses gets the cheapest real call that proves it (see runner/preflight-check.ts);
   * `dermatune preflight` and `run` call it for every stage about to run.
   */
  preflight?(params: P, ctx: PreflightContext): Promise<PreflightCheck[]> | PreflightCheck[];
  /** What the stage will buy (LLM calls and tokens, downloads), for preflight's cost line. */
  estimate?(params: P, ctx: PreflightContext): Promise<StageEstimate> | StageEstimate;
  /**
   * Lines `plan` prints under the stage: what its settings resolve to outside the spec (the
   * shard list a selection names at the pinned commit), or plainly why that is unknown now.
   */
  planNotes?(params: P): Promise<string[]> | string[];
  /**
   * Set-up that depends on neither the stage's inputs nor the stages before it (an interpreter
   * to install, a stand-in model to build). `run` calls it for every stage about to run here
   * before the first stage starts, all kinds side by side; the stage's `run` must still do (or
   * wait for) the same set-up itself. Its failure is not reported there: the stage meets it and
   * reports it.
   */
  prepare?(params: P): Promise<unknown>;
  /**
   * Absent while a kind is declared but not implemented: `run` then refuses up front. A method,
   * so that a kind with named inputs still fits where kinds of every shape are listed.
   */
  run?(ctx: StageContext<P, I, O>): Promise<Result<StageSummary, StageFailure>>;
  /**
   * How the stage runs as a job on a cluster (`--executor ray`); absent, it always runs here.
   * A remote run must write the same output as `run` for the same key. A loader, like the
   * other hooks' code, so that declaring a kind loads none of its job machinery.
   */
  remote?(): Promise<RemoteStage<P, I, O>>;
}

export interface FingerprintContext {
  /**
   * true (`run`, `preflight`, and whatever else stores or removes by key): floating references,
   * such as a hub branch, are resolved now. false (the views: `plan`, `status`, `why`): what
   * such a reference resolved to within the last minutes may serve, and the kind's plan notes
   * say so. Never a different key for the same answer: only whether the hub is asked again.
   */
  readonly fresh: boolean;
}

export interface StageResources {
  /** CPU slots (of `--jobs`) this stage occupies while running. Defaults to 1. */
  cpu?: number;
  /** GPU slots; stages with gpu > 0 are the ones a remote executor may take. */
  gpu?: number;
  /** The LLM provider whose concurrency limit this stage counts against. */
  llm?: string;
}

export interface StageInputOutput {
  /** The input stage's committed output folder (read-only by convention). */
  dir: string;
  key: string;
  kind: string;
}

/**
 * What tracking logs of a kind, declared with the kind so that the tracking code names no stage.
 */
export interface StageTracking {
  /** Prefix of the kind's metric names (`eval` for `eval/bleu`); absent: the kind's name. */
  readonly metricPrefix?: string;
  /** Output files that are a variant's dataset inputs (the train and test sets). */
  readonly datasets?: readonly StageDataset[];
}

export interface StageDataset {
  /** Relative to the output folder; take it from the kind's `outputs`. */
  readonly file: string;
  readonly context: 'train' | 'test' | 'validation';
  /**
   * Logged only by variants that have no node of this kind: the split's train file is the
   * train set where no subset stage narrows it (the untuned baseline).
   */
  readonly unlessVariantHas?: string;
}

/**
 * The inputs a stage gets, by the names its kind declares: the graph refuses a node with a
 * required input unwired (runner/stage-graph.ts), so these are always present.
 */
export type StageInputs<I extends string = string, O extends string = string> = Readonly<
  Record<I, StageInputOutput> & Partial<Record<O, StageInputOutput>>
>;

export interface StageContext<P, I extends string = string, O extends string = string> {
  readonly params: P;
  readonly inputs: StageInputs<I, O>;
  /** A fresh temporary folder; the store moves it into place only when the stage succeeded. */
  readonly outDir: string;
  readonly key: string;
  /** Aborted on Ctrl-C / SIGTERM or when another stage fails under fail-fast. */
  readonly signal: AbortSignal;
  /** Durable per-item memo that survives a crash of this stage (LLM calls, per-item work). */
  readonly memo: ItemMemo;
  /** Where a stage keeps its log (stdout of workers, tracebacks); kept with the output. */
  readonly logFile: string;
  /**
   * A folder of this stage kind's that lasts between runs and is not part of any output
   * (downloaded shards, exported models); shared by all keys of the kind.
   */
  readonly cacheDir: string;
  /**
   * A folder tied to this stage's key that outlives a killed attempt (training checkpoints,
   * finished generation batches), unlike `outDir`; removed once the output is committed.
   * Absent where the caller keeps no such state.
   */
  readonly resumeDir?: string;
  report(event: StageReport): void;
}

/** What a running stage tells the runner; reporters and tracking subscribe to these. */
export type StageReport =
  | {
      type: 'progress';
      done: number;
      total: number;
      /** What is counted, singular or plural as it reads best (`step`, `items`). */
      unit?: string;
      note?: string;
      /**
       * `false` when the units differ too much in cost for a pace to mean anything (evaluate's
       * phases): reporters then show no rate and no time left.
       */
      rate?: false;
    }
  | { type: 'metric'; name: string; value: number; step?: number }
  | { type: 'log'; level: 'info' | 'warn'; message: string };

/**
 * A durable map from content key to JSON value, written atomically item by item, so that a
 * stage killed midway resumes at the first missing item and never pays twice for an LLM call.
 */
export interface ItemMemo {
  get<T>(namespace: string, key: string): Promise<T | undefined>;
  put<T>(namespace: string, key: string, value: T): Promise<void>;
}

export interface StageSummary {
  /** Final scalar metrics of the stage (eval scores, counts, usage); logged to tracking. */
  metrics?: Record<string, number>;
  /** Paths relative to the output folder that tracking uploads as artifacts. */
  artifacts?: string[];
  /** Small JSON stats record kept in the manifest (drop counts, usage, timings). */
  stats?: Record<string, unknown>;
  /**
   * Short text facts tracking logs as tags of the variant's runs (`dermatune.stage.<kind>.<name>`),
   * e.g. which model version answered an LLM stage.
   */
  tags?: Record<string, string>;
}

export interface StageFailure {
  reason: StageFailureReason;
  message: string;
  /** Items that failed, with their reasons, when the stage works item by item. */
  details?: unknown;
}

export type StageFailureReason =
  | 'invalid-input'
  | 'external-service'
  | 'worker-error'
  | 'out-of-memory'
  | 'missing-model'
  | 'missing-credentials'
  | 'cancelled'
  | 'items-failed';

/** A kind of any params and inputs, as the runner lists them. */
// biome-ignore lint/suspicious/noExplicitAny: kinds differ in their param and input types
export type AnyStageKind = StageKind<any, any, any>;

declare const paramsType: unique symbol;

/**
 * A kind's contract: its params type, the inputs it reads and the files it writes. It lives in a
 * small module of its own (`stages/<kind>/contract.ts`), so that the kind's run code and the
 * kinds that read its output import it without loading the kind's runtime.
 */
export interface StageContract<
  P,
  I extends string,
  O extends string,
  F extends Readonly<Record<string, string>>,
> {
  readonly inputs: readonly I[];
  readonly optionalInputs: readonly O[];
  readonly outputs: F;
  /** Carries the params type only; never set. */
  readonly [paramsType]?: P;
}

/** `defineStageContract<Params>()({ inputs: [...], outputs: {...} })`: names stay literal types. */
export function defineStageContract<P>() {
  return <
    const I extends string = never,
    const O extends string = never,
    const F extends Readonly<Record<string, string>> = Record<never, string>,
  >(contract: {
    inputs: readonly I[];
    optionalInputs?: readonly O[];
    outputs?: F;
  }): StageContract<P, I, O, F> => ({
    inputs: contract.inputs,
    optionalInputs: contract.optionalInputs ?? [],
    outputs: contract.outputs ?? ({} as F),
  });
}

/** The context a kind's run function gets, from its contract. */
export type ContextOf<C> =
  C extends StageContract<infer P, infer I, infer O, infer _F> ? StageContext<P, I, O> : never;

/** A kind declared on a contract: inputs and outputs come from it, the params type too. */
export type StageKindDeclaration<
  P,
  I extends string,
  O extends string,
  F extends Readonly<Record<string, string>>,
  S,
> = Omit<StageKind<P, I, O>, 'inputs' | 'optionalInputs' | 'outputs' | 'paramsSchema'> & {
  readonly contract: StageContract<P, I, O, F>;
  readonly paramsSchema: S & ParamsSchemaCheck<P, S>;
};

/**
 * Registration: a kind on its contract, whose params schema is checked against the params type
 * at compile time (runner/params-schema-check.ts); or, for test pipelines, a kind with plain inputs.
 */
export function defineStageKind<
  P,
  I extends string,
  O extends string,
  F extends Readonly<Record<string, string>>,
  const S extends Record<string, unknown>,
>(kind: StageKindDeclaration<P, I, O, F, S>): StageKind<P, I, O> & { readonly outputs: F };
export function defineStageKind<P>(kind: StageKind<P>): StageKind<P>;
export function defineStageKind(
  kind:
    | StageKind<unknown, string, string>
    | StageKindDeclaration<
        unknown,
        string,
        string,
        Record<string, string>,
        Record<string, unknown>
      >,
): StageKind<unknown, string, string> {
  if (!('contract' in kind)) return kind;
  const { contract, ...rest } = kind;
  return {
    ...rest,
    inputs: contract.inputs,
    optionalInputs: contract.optionalInputs,
    outputs: contract.outputs,
  };
}
