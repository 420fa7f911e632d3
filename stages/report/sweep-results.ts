import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactStore } from '../../runner/artifact-store.ts';
import type { SweepPlan } from '../../runner/sweep-plan.ts';
import { EVALUATE_OUTPUT } from '../evaluate/contract.ts';

/**
 * What the store holds for each variant of a sweep: its evaluate stage's metrics, the number
 * of images it was trained on, and how it was scored. Reading never fails on a missing or
 * broken entry: that variant is reported as such, so a half-run sweep still gets a table.
 */
export interface VariantResult {
  variant: string;
  axes: Record<string, unknown>;
  /** A replicate (`sweep.replicates`): the variant it repeats, under whose name Table 1 shows it. */
  replicateOf?: string;
  /** The replicate's own values (`{"train.seed": 2}`), also among `axes`. */
  replicate?: Record<string, unknown>;
  /** The evaluate stage: its key (replicates that share it are one run) and what seeds its statistics. */
  evaluate?: { key: string; seed: number; bleuSmooth: boolean };
  /** `data.supervision` of the variant's spec (absent in a pipeline without it). */
  supervision?: string;
  /** `data.train_size` as the spec says it: a number or 'all'. */
  trainSize?: number | 'all';
  /** Images the subset stage actually kept, when it has run. */
  trainImages?: number;
  /** Untuned (`train.method: none`): drawn as a reference line, named by its variant. */
  baseline: boolean;
  state: VariantState;
  /** The evaluate stage's `summary.metrics` (`eval/...`); empty unless evaluated. */
  metrics: Record<string, number>;
  /** Where the sample cases come from, when evaluated. */
  sources?: SampleSources;
  scoring: ScoringSetup;
}

export interface SampleSources {
  /** The evaluate stage's output: metrics.json and its per-item lines. */
  evaluateDir: string;
  /** The generate stage's output it scored: predictions.jsonl with question, answer, image. */
  predictionsDir?: string;
  /** The folder relative image paths of the predictions are inside (generate's `images` input). */
  imageRoot?: string;
}

export type VariantState =
  | { state: 'evaluated' }
  | { state: 'not-evaluated' }
  | { state: 'corrupt'; why: string }
  | { state: 'no-evaluate-stage' };

/** Which models produced the model-based scores, so a demo's stand-ins are never mistaken for the paper's. */
export interface ScoringSetup {
  bertscoreModel?: string;
  /** Hidden layer BERTScore matched on; absent means the model's default (last) layer. */
  bertscoreLayer?: number;
  bertscoreRescaled?: boolean;
  bertscoreIdf?: boolean;
  /** Sentence encoder of the semantic-matching accuracy. */
  encoderModel?: string;
}

export const SUBSET_IMAGES_METRIC = 'subset/images';

export async function collectSweepResults(
  plan: SweepPlan,
  store: ArtifactStore,
): Promise<VariantResult[]> {
  const nodes = new Map(plan.graph.nodes.map((n) => [n.key as string, n]));
  const results: VariantResult[] = [];
  for (const variant of plan.variants) {
    const keys = plan.graph.variants.find((v) => v.name === variant.name)?.nodeKeys ?? [];
    const variantNodes = keys.flatMap((key) => nodes.get(key) ?? []);
    const evaluateNode = variantNodes.find((n) => n.kind.name === 'evaluate');
    const subsetNode = variantNodes.find((n) => n.kind.name === 'subset');
    const data = asRecord(variant.spec.data);
    const train = asRecord(variant.spec.train);
    const result: VariantResult = {
      variant: variant.name,
      axes: variant.axes,
      ...(variant.replicateOf !== undefined && {
        replicateOf: variant.replicateOf,
        replicate: variant.replicate ?? {},
      }),
      ...(evaluateNode && { evaluate: evaluateSettings(evaluateNode.key, evaluateNode.params) }),
      ...(typeof data.supervision === 'string' ? { supervision: data.supervision } : {}),
      ...(typeof data.train_size === 'number' || data.train_size === 'all'
        ? { trainSize: data.train_size }
        : {}),
      baseline: train.method === 'none',
      state: { state: 'no-evaluate-stage' },
      metrics: {},
      scoring: evaluateNode ? scoringFromParams(evaluateNode.params) : {},
    };
    if (subsetNode) {
      const entry = await store.lookup(subsetNode.key);
      const images =
        entry.state === 'present'
          ? entry.manifest.summary.metrics?.[SUBSET_IMAGES_METRIC]
          : undefined;
      if (typeof images === 'number') result.trainImages = images;
    }
    if (evaluateNode) {
      const entry = await store.lookup(evaluateNode.key);
      if (entry.state === 'absent') result.state = { state: 'not-evaluated' };
      else if (entry.state === 'corrupt') result.state = { state: 'corrupt', why: entry.why };
      else {
        result.state = { state: 'evaluated' };
        result.metrics = evalMetrics(entry.manifest.summary.metrics ?? {});
        result.sources = await sampleSources(store, entry.outputDir, entry.manifest.record.inputs);
        result.scoring = {
          ...result.scoring,
          ...(await scoringFromReport(join(entry.outputDir, EVALUATE_OUTPUT.metrics))),
        };
      }
    }
    results.push(result);
  }
  return results;
}

/**
 * The evaluate stage may name its metrics with or without the `eval/` prefix that tracking
 * shows (the stage leaves the prefix to tracking); the table reads them by the tracked name.
 */
function evalMetrics(metrics: Record<string, number>): Record<string, number> {
  const named: Record<string, number> = {};
  for (const [name, value] of Object.entries(metrics)) {
    named[name.startsWith(`${EVAL_PREFIX}/`) ? name : `${EVAL_PREFIX}/${name}`] = value;
  }
  return named;
}

const EVAL_PREFIX = 'eval';

/** Follows the stored key records back: evaluate's predictions input, and that one's images input. */
async function sampleSources(
  store: ArtifactStore,
  evaluateDir: string,
  inputs: Record<string, string>,
): Promise<SampleSources> {
  const sources: SampleSources = { evaluateDir };
  if (!inputs.predictions) return sources;
  const generate = await store.lookup(inputs.predictions);
  if (generate.state !== 'present') return sources;
  sources.predictionsDir = generate.outputDir;
  const imagesKey = generate.manifest.record.inputs.images;
  if (!imagesKey) return sources;
  const images = await store.lookup(imagesKey);
  if (images.state === 'present') sources.imageRoot = images.outputDir;
  return sources;
}

function evaluateSettings(key: string, params: unknown): NonNullable<VariantResult['evaluate']> {
  const record = asRecord(params);
  return {
    key,
    seed: typeof record.seed === 'number' ? record.seed : 0,
    bleuSmooth: asRecord(asRecord(record.eval).bleu).smooth === true,
  };
}

/** The evaluate node's params say what was asked for (`eval.bertscore`, `eval.encoder`). */
function scoringFromParams(params: unknown): ScoringSetup {
  const evalParams = asRecord(asRecord(params).eval);
  const bertscore = asRecord(evalParams.bertscore);
  const encoder = asRecord(evalParams.encoder);
  return pickScoring(bertscore, encoder.model);
}

/**
 * metrics.json says what was actually used, which wins over the params when it is there
 * (a layer left to the model's default is resolved there). Its absence or another shape is
 * not an error: the params already name the models.
 */
async function scoringFromReport(file: string): Promise<ScoringSetup> {
  let report: Record<string, unknown>;
  try {
    report = asRecord(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    return {};
  }
  const bertscore = asRecord(report.bertscore);
  const encoder = asRecord(report.accuracy).encoder ?? asRecord(report.encoder).model;
  return pickScoring(bertscore, encoder);
}

function pickScoring(bertscore: Record<string, unknown>, encoder: unknown): ScoringSetup {
  const setup: ScoringSetup = {};
  if (typeof bertscore.model === 'string') setup.bertscoreModel = bertscore.model;
  if (typeof bertscore.layer === 'number') setup.bertscoreLayer = bertscore.layer;
  const rescale = bertscore.rescale_with_baseline ?? bertscore.rescaled;
  if (typeof rescale === 'boolean') setup.bertscoreRescaled = rescale;
  if (typeof bertscore.idf === 'boolean') setup.bertscoreIdf = bertscore.idf;
  if (typeof encoder === 'string') setup.encoderModel = encoder;
  return setup;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
