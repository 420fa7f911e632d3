import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { closest } from 'fastest-levenshtein';
import type { ArtifactStore } from '../../runner/artifact-store.ts';
import type { CommandArgs } from '../../runner/cli/cli-context.ts';
import { fail, ok, type Result } from '../../runner/result.ts';
import type { StageNode } from '../../runner/stage-graph.ts';
import type { ResolvedVariant, SweepPlan } from '../../runner/sweep-plan.ts';
import { GENERATE_OUTPUT, type GenerateParams } from '../generate/contract.ts';
import { generateJobSettings } from '../model-worker/job-builder.ts';
import type { GenerateSettings } from '../model-worker/worker-job.ts';
import { TRAIN_OUTPUT } from '../train/contract.ts';

/**
 * What `ask` and `export` read of one variant: the stages the study ran for it, found by the
 * keys the plan gives them, so that the settings used (image size, decoding, the adapter) are
 * read from what was stored rather than restated. Nothing here writes.
 */
export interface VariantStages {
  variant: ResolvedVariant;
  /** The train stage's stored output folder; absent for an untuned (`train.method: none`) variant. */
  train?: StoredStage;
  /** The generate stage: its params (what its key covers) and its output when stored. */
  generate: { node: StageNode; params: GenerateParams; stored?: StoredStage };
  /** The evaluate stage's output, when stored. */
  evaluate?: StoredStage;
  /** Every stage of the variant's chain by stage id, with its key (the model card lists them). */
  keys: { stage: string; kind: string; key: string }[];
}

export interface StoredStage {
  key: string;
  outputDir: string;
  metrics: Record<string, number>;
}

export interface VariantStagesFailure {
  reason: 'unknown-variant' | 'not-trained' | 'no-generate-stage' | 'corrupt';
  message: string;
}

/**
 * The stages of `name` in the plan, and those the store holds. `runArgs` are the spec and its
 * `--set`s as the user typed them, for the command a refusal names.
 */
export async function variantStages(
  plan: SweepPlan,
  store: ArtifactStore,
  name: string,
  runArgs: string,
): Promise<Result<VariantStages, VariantStagesFailure>> {
  const variant = plan.variants.find((v) => v.name === name);
  const graphVariant = plan.graph.variants.find((v) => v.name === name);
  if (!variant || !graphVariant) {
    const names = plan.variants.map((v) => v.name);
    return fail({
      reason: 'unknown-variant',
      message: `--variant ${name}: no such variant in ${plan.specName}; did you mean "${closest(name, names)}"? (variants: ${names.join(', ')})`,
    });
  }
  const byKey = new Map(plan.graph.nodes.map((n) => [n.key as string, n]));
  const nodes = graphVariant.nodeKeys.flatMap((key) => byKey.get(key) ?? []);
  const keys = nodes.map((n) => ({ stage: n.stageId, kind: n.kind.name, key: n.key as string }));
  const generateNode = nodes.find((n) => n.kind.name === 'generate');
  if (!generateNode) {
    return fail({
      reason: 'no-generate-stage',
      message: `variant ${name} has no generate stage in its chain, so it has no model to use`,
    });
  }
  const runIt = `train it with \`dermatune run ${runArgs} --only ${name}\``;
  const trainNode = nodes.find((n) => n.kind.name === 'train');
  let train: StoredStage | undefined;
  if (trainNode) {
    const stored = await storedStage(store, trainNode);
    if (!stored.ok) {
      return fail({
        reason: stored.error.reason === 'corrupt' ? 'corrupt' : 'not-trained',
        message:
          stored.error.reason === 'corrupt'
            ? `variant ${name}: its stored training is damaged (${stored.error.why}); ${runIt}`
            : `variant ${name} is not trained yet; ${runIt}`,
      });
    }
    train = stored.value;
  }
  const generated = await storedStage(store, generateNode);
  const evaluateNode = nodes.find((n) => n.kind.name === 'evaluate');
  const evaluated = evaluateNode ? await storedStage(store, evaluateNode) : undefined;
  return ok({
    variant,
    ...(train && { train }),
    generate: {
      node: generateNode,
      params: generateNode.params as GenerateParams,
      ...(generated.ok && { stored: generated.value }),
    },
    ...(evaluated?.ok && { evaluate: evaluated.value }),
    keys,
  });
}

async function storedStage(
  store: ArtifactStore,
  node: StageNode,
): Promise<Result<StoredStage, { reason: 'absent' } | { reason: 'corrupt'; why: string }>> {
  const entry = await store.lookup(node.key);
  if (entry.state === 'absent') return fail({ reason: 'absent' });
  if (entry.state === 'corrupt') return fail({ reason: 'corrupt', why: entry.why });
  return ok({
    key: node.key,
    outputDir: entry.outputDir,
    metrics: entry.manifest.summary.metrics ?? {},
  });
}

/** The spec and its `--set`s as typed, so that the `run` a refusal names trains what was asked. */
export function runArguments(args: CommandArgs): string {
  const value = args.values.set;
  const sets = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
  const quoted = (text: string) => (/^[\w./=@:,[\]-]+$/.test(text) ? text : `'${text}'`);
  return [args.positionals[0] ?? '', ...sets.map((set) => `--set ${quoted(set)}`)].join(' ');
}

export interface StudySettings {
  settings: GenerateSettings;
  /** The stored generate stage's job, or its params when it has not run (they are what its key covers). */
  from: 'stored-generate-job' | 'generate-params';
}

/** The generation settings the study evaluated the variant with: the job its generate stage ran. */
export async function studySettings(stages: VariantStages): Promise<StudySettings> {
  const stored = stages.generate.stored;
  if (stored) {
    const job = await readJson(join(stored.outputDir, GENERATE_OUTPUT.job));
    const settings = job?.generate as GenerateSettings | undefined;
    if (settings) return { settings, from: 'stored-generate-job' };
  }
  return {
    settings: generateJobSettings(stages.generate.params.generate),
    from: 'generate-params',
  };
}

/** The stored train stage's own job (the worker writes it beside the adapter). */
export async function storedTrainJob(
  train: StoredStage,
): Promise<{ data?: { train?: string }; train?: { image_size?: number | null } } | undefined> {
  return (await readJson(join(train.outputDir, TRAIN_OUTPUT.job))) as
    | { data?: { train?: string }; train?: { image_size?: number | null } }
    | undefined;
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
