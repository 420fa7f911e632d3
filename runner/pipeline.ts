import type { JsonSchema } from './spec-schema.ts';
import type { AnyStageKind } from './stage-kind.ts';

/**
 * What the runner needs from a domain: the stage kinds it may use, and how one resolved
 * variant spec becomes a chain of stages. The runner core never looks inside either.
 */
export interface Pipeline {
  readonly kinds: readonly AnyStageKind[];
  /**
   * The domain's own top level of the spec (the published schema's identity, fields of its
   * own); the runner adds its grammar (runner/spec-grammar.ts) and the kinds their params.
   */
  readonly baseSchema?: JsonSchema;
  /** The stages one variant needs, each wired to others by their ids. */
  stagesFor(spec: Record<string, unknown>): PipelineStage[];
  /** Rules across settings the schema cannot say ("a rank of 0 with LoRA on"), by dotted path. */
  checkSpec?(spec: Record<string, unknown>): { path: string; message: string }[];
}

export interface PipelineStage {
  /** Stable name of the stage within a variant's chain (`curate`, `train`). */
  id: string;
  kind: string;
  /** Input name (as the kind declares it) to the id of the stage that provides it. */
  inputs: Record<string, string>;
}
