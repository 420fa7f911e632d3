import { fail, ok, type Result } from '../../../runner/result.ts';
import { greedyMatchBatches, type MatchInput, type TokenVectors } from './bert-score-matching.ts';
import { bertScoreLayer, DEFAULT_SENTENCE_ENCODER } from './encoder-catalog.ts';
import {
  type EncoderSetupFailure,
  type EnsureEncoderOptions,
  ensureEncoderModel,
} from './ensure-encoder-model.ts';
import { lengthBatches } from './length-batches.ts';
import { loadOnnxEncoder, type OnnxEncoder } from './onnx-encoder.ts';

/** Padded tokens per ONNX run (see length-batches.ts). */
const TOKEN_BUDGET = 4096;

/**
 * BERTScore as the `bert_score` package (0.3.13) computes it: the chosen layer's token vectors,
 * greedy cosine matching with the special tokens weighted 0, idf weights from the references
 * when asked, and optional rescaling with a baseline. Every result names its model and layer.
 */
export interface BertScorer {
  readonly model: string;
  readonly layer: number;
  /** Scores pair k as (candidates[k], references[k]); `options` override the scorer's own. */
  score(
    candidates: readonly string[],
    references: readonly string[],
    options?: BertScoreOptions,
  ): Promise<BertScoreResult>;
  release(): Promise<void>;
}

export interface BertScoreResult {
  precision: number[];
  recall: number[];
  f1: number[];
  /** Plain means over the pairs (what `P.mean()` gives in Python). */
  mean: { precision: number; recall: number; f1: number };
  model: string;
  layer: number;
  idf: boolean;
  rescaled: boolean;
}

/** bert_score's baseline file row for the layer: the values rescaling subtracts. */
export interface BertScoreBaseline {
  precision: number;
  recall: number;
  f1: number;
}

export interface BertScoreOptions {
  /** Weight tokens by idf computed from the references of the `score` call. */
  idf?: boolean;
  /** Rescale P, R and F1 as `(x - b) / (1 - b)`. */
  baseline?: BertScoreBaseline;
}

export interface BertScorerOptions extends EnsureEncoderOptions, BertScoreOptions {
  /** A packaged model's hub id or short name, a local model folder, or a hub repo id. */
  model?: string;
  /**
   * Hidden layer to read (0 = embeddings). Defaults to bert_score's tuned layer for the models
   * its table lists, else the model's last layer (all-MiniLM-L6-v2 is not listed: layer 6).
   */
  layer?: number;
  /** Pairs per matching batch; it decides where bert_score's zero floor applies. */
  batchSize?: number;
  threads?: number;
}

export type BertScorerFailure = EncoderSetupFailure | { reason: 'invalid-layer'; message: string };

/** The encoder's files as the scorer reads them (set up on first use); `prepare` calls it early. */
export function bertScorerFiles(options: BertScorerOptions = {}) {
  const model = options.model ?? DEFAULT_SENTENCE_ENCODER;
  return ensureEncoderModel(model, {
    setting: 'eval.bertscore.model',
    layers: bertScoreLayer(model, options.layer),
    ...options,
  });
}

export async function createBertScorer(
  options: BertScorerOptions = {},
): Promise<Result<BertScorer, BertScorerFailure>> {
  const model = options.model ?? DEFAULT_SENTENCE_ENCODER;
  const chosen = bertScoreLayer(model, options.layer);
  const files = await bertScorerFiles(options);
  if (!files.ok) return files;
  const { numLayers, modelId } = files.value.manifest;
  const layer = chosen ?? numLayers;
  if (!Number.isInteger(layer) || layer < 0 || layer > numLayers) {
    return fail({
      reason: 'invalid-layer',
      message: `layer ${layer} is outside 0..${numLayers} for ${modelId}`,
    });
  }
  const encoder = await loadOnnxEncoder(files.value, { threads: options.threads });
  const batchSize = options.batchSize ?? 64;
  // The vectors of the previous call's texts, so rescoring the same pairs with other options
  // (idf, rescaling) does not run the encoder again; one call's worth, never more.
  let previous = new Map<string, TokenVectors>();
  return ok({
    model: modelId,
    layer,
    async score(candidates, references, overrides = {}) {
      if (candidates.length !== references.length) {
        throw new Error(`${candidates.length} candidates but ${references.length} references`);
      }
      const distinct = [...new Set([...references, ...candidates])];
      const ids = new Map(
        distinct.map((text) => [text, encoder.tokenizer.encodeForBertScore(text)]),
      );
      const missing = distinct.filter((text) => !previous.has(text));
      const computed = await tokenVectors(encoder, missing, ids, layer, batchSize);
      const vectors = new Map(
        distinct.map((text) => [text, previous.get(text) ?? computed.get(text)]),
      );
      previous = vectors as Map<string, TokenVectors>;
      const settings: ScoreSettings = {
        layer,
        batchSize,
        idf: overrides.idf ?? options.idf ?? false,
        baseline: 'baseline' in overrides ? overrides.baseline : options.baseline,
      };
      return scoreVectors(encoder, settings, candidates, references, ids, previous);
    },
    release: () => encoder.release(),
  });
}

interface ScoreSettings {
  layer: number;
  idf: boolean;
  baseline: BertScoreBaseline | undefined;
  batchSize: number;
}

function scoreVectors(
  encoder: OnnxEncoder,
  settings: ScoreSettings,
  candidates: readonly string[],
  references: readonly string[],
  ids: ReadonlyMap<string, number[]>,
  vectors: ReadonlyMap<string, TokenVectors>,
): BertScoreResult {
  const { tokenizer } = encoder;
  const weight = settings.idf
    ? idfWeights(references.map((text) => ids.get(text) ?? []))
    : (id: number) => (id === tokenizer.clsId || id === tokenizer.sepId ? 0 : 1);

  const pairs: MatchInput[] = candidates.map((candidate, k) => {
    const reference = references[k] ?? '';
    return {
      candidate: vectors.get(candidate) as TokenVectors,
      reference: vectors.get(reference) as TokenVectors,
      candidateWeights: (ids.get(candidate) ?? []).map(weight),
      referenceWeights: (ids.get(reference) ?? []).map(weight),
    };
  });
  const raw = greedyMatchBatches(pairs, encoder.hiddenSize, settings.batchSize);
  const { baseline } = settings;
  const rescale = (value: number, base: number) => (baseline ? (value - base) / (1 - base) : value);
  const precision = raw.map((s) => rescale(s.precision, baseline?.precision ?? 0));
  const recall = raw.map((s) => rescale(s.recall, baseline?.recall ?? 0));
  const f1 = raw.map((s) => rescale(s.f1, baseline?.f1 ?? 0));
  return {
    precision,
    recall,
    f1,
    mean: { precision: mean(precision), recall: mean(recall), f1: mean(f1) },
    model: encoder.files.manifest.modelId,
    layer: settings.layer,
    idf: settings.idf,
    rescaled: baseline !== undefined,
  };
}

/**
 * `bert_score.utils.get_idf_dict` over the references: a token's weight is
 * log((N + 1) / (df + 1)) with df the number of references containing it, and log(N + 1) for
 * a token no reference has. The specials occur in every reference, so they weigh 0.
 */
export function idfWeights(references: readonly (readonly number[])[]): (id: number) => number {
  const documentFrequency = new Map<number, number>();
  for (const ids of references) {
    for (const id of new Set(ids)) documentFrequency.set(id, (documentFrequency.get(id) ?? 0) + 1);
  }
  const n = references.length;
  return (id) => Math.log((n + 1) / ((documentFrequency.get(id) ?? 0) + 1));
}

/**
 * Each distinct text's layer vectors, L2-normalised per token. The encoder's batching need not
 * follow bert_score's (padding is masked; only float rounding differs).
 */
async function tokenVectors(
  encoder: OnnxEncoder,
  texts: readonly string[],
  ids: ReadonlyMap<string, number[]>,
  layer: number,
  batchSize: number,
): Promise<Map<string, TokenVectors>> {
  const out = new Map<string, TokenVectors>();
  const hidden = encoder.hiddenSize;
  const lengths = texts.map((text) => ids.get(text)?.length ?? 0);
  for (const indices of lengthBatches(lengths, batchSize, TOKEN_BUDGET)) {
    const members = indices.map((k) => texts[k] ?? '');
    const batch = members.map((text) => ids.get(text) ?? []);
    const states = await encoder.hiddenStates(batch, layer);
    members.forEach((text, row) => {
      const length = batch[row]?.length ?? 0;
      const vectors = new Float64Array(length * hidden);
      for (let t = 0; t < length; t++) {
        const from = (row * states.sequence + t) * hidden;
        let norm = 0;
        for (let h = 0; h < hidden; h++) norm += (states.data[from + h] ?? 0) ** 2;
        const scale = 1 / Math.sqrt(norm);
        for (let h = 0; h < hidden; h++)
          vectors[t * hidden + h] = (states.data[from + h] ?? 0) * scale;
      }
      out.set(text, { vectors, length });
    });
  }
  return out;
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}
