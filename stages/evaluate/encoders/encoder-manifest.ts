import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, ok, type Result } from '../../../runner/result.ts';

/** `encoder.json`, written by export_onnx.py beside the graph: what the runtime needs to know. */
export interface EncoderManifest {
  modelId: string;
  /** The folder the weights were exported from (the references load the model from there). */
  source: string;
  /** sha256 of the source weights: identifies the model's revision. */
  sourceWeightsSha256: string | null;
  /** The hub commit of a downloaded model; null for packaged models and local folders. */
  revision?: string | null;
  onnxSha256: string;
  /** Layers in the graph: the model's, or fewer when exported up to BERTScore's layer. */
  numLayers: number;
  /** Layers of the model itself (older exports lack it: then numLayers). */
  modelNumLayers?: number;
  hiddenSize: number;
  /** `bert`, `roberta`, ...: decides the tokenization quirks bert_score applies. */
  modelType: string;
  /** sentence-transformers' own truncation length; null when the model has no such config. */
  maxSeqLength: number | null;
  inputs: string[];
  /** `hidden_state_<i>`: index 0 is the embedding output, i the output of layer i. */
  outputs: string[];
}

export interface ManifestFailure {
  reason: 'bad-manifest';
  message: string;
}

export async function readEncoderManifest(
  dir: string,
): Promise<Result<EncoderManifest, ManifestFailure>> {
  let parsed: Partial<EncoderManifest>;
  try {
    parsed = JSON.parse(
      await readFile(join(dir, 'encoder.json'), 'utf8'),
    ) as Partial<EncoderManifest>;
  } catch (error) {
    return fail({ reason: 'bad-manifest', message: `${dir}/encoder.json: ${String(error)}` });
  }
  const complete =
    typeof parsed.modelId === 'string' &&
    typeof parsed.numLayers === 'number' &&
    typeof parsed.hiddenSize === 'number' &&
    typeof parsed.modelType === 'string' &&
    Array.isArray(parsed.inputs) &&
    Array.isArray(parsed.outputs) &&
    parsed.outputs.length === parsed.numLayers + 1;
  if (!complete) {
    return fail({ reason: 'bad-manifest', message: `${dir}/encoder.json lacks required fields` });
  }
  return ok(parsed as EncoderManifest);
}
