import { join } from 'node:path';
import type ort from 'onnxruntime-node';
import { type EncoderTokenizer, loadEncoderTokenizer } from './encoder-tokenizer.ts';
import type { EncoderModelFiles } from './ensure-encoder-model.ts';

/**
 * The exported encoder run by onnxruntime-node: token ids in, one layer's hidden states out.
 * onnxruntime is used directly rather than through transformers.js's model classes because
 * the graph returns every layer (BERTScore picks one), which those classes do not expose, and
 * because pooling and matching must follow the Python references step by step.
 */
export interface OnnxEncoder {
  readonly files: EncoderModelFiles;
  readonly tokenizer: EncoderTokenizer;
  readonly numLayers: number;
  readonly hiddenSize: number;
  /** Right-pads the batch, runs it, and returns layer `layer` (0 = embeddings). */
  hiddenStates(batch: readonly (readonly number[])[], layer: number): Promise<HiddenStates>;
  release(): Promise<void>;
}

/** Row-major `[batch, sequence, hidden]`, padded positions included. */
export interface HiddenStates {
  data: Float32Array;
  batch: number;
  sequence: number;
  hidden: number;
}

export interface OnnxEncoderOptions {
  /** Intra-op threads; 0 lets onnxruntime use every core. */
  threads?: number;
}

export async function loadOnnxEncoder(
  files: EncoderModelFiles,
  options: OnnxEncoderOptions = {},
): Promise<OnnxEncoder> {
  const { manifest } = files;
  // Loaded here, not at the top: the native runtime costs start-up time to every command that
  // only imports the stage kinds (validate, plan), and only evaluation needs it.
  const { default: ort } = await import('onnxruntime-node');
  const [session, tokenizer] = await Promise.all([
    ort.InferenceSession.create(join(files.dir, 'model.onnx'), {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: options.threads ?? 0,
    }),
    loadEncoderTokenizer(files.dir, manifest.modelType),
  ]);
  return {
    files,
    tokenizer,
    numLayers: manifest.numLayers,
    hiddenSize: manifest.hiddenSize,
    async hiddenStates(batch, layer) {
      const output = manifest.outputs[layer];
      if (output === undefined) throw new Error(`layer ${layer} outside 0..${manifest.numLayers}`);
      const sequence = Math.max(1, ...batch.map((ids) => ids.length));
      const size = batch.length * sequence;
      const ids = new BigInt64Array(size).fill(BigInt(tokenizer.padId));
      const mask = new BigInt64Array(size);
      batch.forEach((row, b) => {
        row.forEach((id, t) => {
          ids[b * sequence + t] = BigInt(id);
          mask[b * sequence + t] = 1n;
        });
      });
      const shape = [batch.length, sequence];
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', ids, shape),
        attention_mask: new ort.Tensor('int64', mask, shape),
      };
      // Single sequences are all segment 0, as the tokenizer's template says.
      if (manifest.inputs.includes('token_type_ids')) {
        feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(size), shape);
      }
      const result = await session.run(feeds, [output]);
      const tensor = result[output];
      if (tensor?.type !== 'float32') throw new Error(`no float32 output ${output}`);
      return {
        data: tensor.data as Float32Array,
        batch: batch.length,
        sequence,
        hidden: manifest.hiddenSize,
      };
    },
    release: () => session.release(),
  };
}
