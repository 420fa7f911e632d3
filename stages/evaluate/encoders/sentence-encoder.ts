import type { Result } from '../../../runner/result.ts';
import { DEFAULT_SENTENCE_ENCODER } from './encoder-catalog.ts';
import {
  type EncoderSetupFailure,
  type EnsureEncoderOptions,
  ensureEncoderModel,
} from './ensure-encoder-model.ts';
import { lengthBatches } from './length-batches.ts';
import { loadOnnxEncoder, type OnnxEncoder } from './onnx-encoder.ts';

/** Padded tokens per ONNX run: large enough to keep the CPU busy, small enough to not pad. */
const TOKEN_BUDGET = 4096;

/**
 * Sentence embeddings as sentence-transformers computes them for all-MiniLM-L6-v2 (Transformer,
 * then mean pooling over the attention mask, then L2 normalisation), in fp32.
 */
export interface SentenceEncoder {
  /** The hub id of the model, recorded with every figure computed from these embeddings. */
  readonly modelId: string;
  readonly dimension: number;
  /** One unit-length vector per text, in input order. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  release(): Promise<void>;
}

export interface SentenceEncoderOptions extends EnsureEncoderOptions {
  /** A packaged model's hub id or short name, a local model folder, or a hub repo id. */
  model?: string;
  /** Texts per ONNX run; texts are grouped by length so padding stays small. */
  batchSize?: number;
  threads?: number;
}

/** The encoder's files (set up on first use); `prepare` calls it early. */
export function sentenceEncoderFiles(options: SentenceEncoderOptions = {}) {
  return ensureEncoderModel(options.model ?? DEFAULT_SENTENCE_ENCODER, {
    setting: 'eval.encoder.model',
    ...options,
  });
}

export async function createSentenceEncoder(
  options: SentenceEncoderOptions = {},
): Promise<Result<SentenceEncoder, EncoderSetupFailure>> {
  const files = await sentenceEncoderFiles(options);
  if (!files.ok) return files;
  const encoder = await loadOnnxEncoder(files.value, { threads: options.threads });
  return { ok: true, value: sentenceEncoderOver(encoder, options.batchSize ?? 32) };
}

function sentenceEncoderOver(encoder: OnnxEncoder, batchSize: number): SentenceEncoder {
  const { manifest } = encoder.files;
  // sentence-transformers truncates at its own max_seq_length (256 for all-MiniLM-L6-v2).
  const maxLength = manifest.maxSeqLength ?? encoder.tokenizer.modelMaxLength;
  return {
    modelId: manifest.modelId,
    dimension: encoder.hiddenSize,
    async embed(texts) {
      const ids = texts.map((text) => encoder.tokenizer.encode(text, maxLength));
      const out = new Array<Float32Array>(texts.length);
      const lengths = ids.map((row) => row.length);
      for (const members of lengthBatches(lengths, batchSize, TOKEN_BUDGET)) {
        const batch = members.map((i) => ids[i] ?? []);
        const states = await encoder.hiddenStates(batch, encoder.numLayers);
        members.forEach((textIndex, row) => {
          out[textIndex] = meanPoolNormalised(
            states.data,
            row,
            states.sequence,
            states.hidden,
            batch[row]?.length ?? 0,
          );
        });
      }
      return out;
    },
    release: () => encoder.release(),
  };
}

/**
 * Mean of the unpadded token vectors of one row, then divided by its L2 norm: the Pooling
 * (mean tokens, count clamped at 1e-9) and Normalize (norm clamped at 1e-12) modules.
 */
export function meanPoolNormalised(
  data: Float32Array,
  row: number,
  sequence: number,
  hidden: number,
  length: number,
): Float32Array {
  const sum = new Float64Array(hidden);
  for (let t = 0; t < length; t++) {
    const base = (row * sequence + t) * hidden;
    for (let h = 0; h < hidden; h++) sum[h] = (sum[h] ?? 0) + (data[base + h] ?? 0);
  }
  const count = Math.max(length, 1e-9);
  let norm = 0;
  for (let h = 0; h < hidden; h++) {
    const mean = (sum[h] ?? 0) / count;
    sum[h] = mean;
    norm += mean * mean;
  }
  const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
  const out = new Float32Array(hidden);
  for (let h = 0; h < hidden; h++) out[h] = (sum[h] ?? 0) * scale;
  return out;
}
