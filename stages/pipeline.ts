import type { Pipeline, PipelineStage } from '../runner/pipeline.ts';
import { annotateKind } from './annotate/kind.ts';
import { annotateKeywordsKind } from './annotate-keywords/kind.ts';
import { cleanQaKind } from './clean-qa/kind.ts';
import { curateKind } from './curate/kind.ts';
import { distractorsKind } from './distractors/kind.ts';
import { distractorsFromAnswersKind } from './distractors-from-answers/kind.ts';
import { evaluateKind } from './evaluate/kind.ts';
import { generateKind } from './generate/kind.ts';
import { generateQaKind } from './generate-qa/kind.ts';
import { selectKind } from './select/kind.ts';
import { sourceQaKind } from './source-qa/kind.ts';
import { specBaseSchema } from './spec-base-schema.ts';
import { splitKind } from './split/kind.ts';
import { subsetKind } from './subset/kind.ts';
import { trainKind } from './train/kind.ts';

/**
 * The study as a pipeline: the data chain (shared by every variant that agrees on its
 * settings), then training, generation and evaluation per variant. The untuned baseline
 * (`train.method: none`) skips training and generates with `model.base` as it is.
 */
export const studyPipeline: Pipeline = {
  kinds: [
    curateKind,
    annotateKind,
    annotateKeywordsKind,
    selectKind,
    generateQaKind,
    cleanQaKind,
    sourceQaKind,
    splitKind,
    subsetKind,
    distractorsKind,
    distractorsFromAnswersKind,
    trainKind,
    generateKind,
    evaluateKind,
  ],
  baseSchema: specBaseSchema,
  stagesFor(spec) {
    const tuned = (spec.train as { method?: string } | undefined)?.method !== 'none';
    const data = (spec.data ?? {}) as { labeller?: string; qa?: string };
    const distractorSource = (spec.eval as { distractor_source?: string } | undefined)
      ?.distractor_source;
    // A dataset that brings its labels or QA pairs leaves out the stages that would write them.
    const stages: PipelineStage[] = [{ id: 'curate', kind: 'curate', inputs: {} }];
    if (data.labeller === 'from_source') {
      stages.push({ id: 'select', kind: 'select', inputs: { records: 'curate' } });
    } else {
      stages.push(
        {
          id: 'annotate',
          kind: data.labeller === 'keywords' ? 'annotate-keywords' : 'annotate',
          inputs: { records: 'curate' },
        },
        { id: 'select', kind: 'select', inputs: { records: 'curate', annotations: 'annotate' } },
      );
    }
    if (data.qa === 'from_source') {
      stages.push(
        { id: 'source-qa', kind: 'source-qa', inputs: { images: 'select' } },
        { id: 'split', kind: 'split', inputs: { qa: 'source-qa' } },
      );
    } else {
      stages.push(
        { id: 'generate-qa', kind: 'generate-qa', inputs: { images: 'select' } },
        { id: 'clean-qa', kind: 'clean-qa', inputs: { qa: 'generate-qa' } },
        { id: 'split', kind: 'split', inputs: { qa: 'clean-qa' } },
      );
    }
    stages.push({
      id: 'distractors',
      kind: distractorSource === 'other_answers' ? 'distractors-from-answers' : 'distractors',
      inputs: { split: 'split' },
    });
    if (tuned) {
      stages.push(
        { id: 'subset', kind: 'subset', inputs: { split: 'split' } },
        { id: 'train', kind: 'train', inputs: { train_set: 'subset', images: 'curate' } },
        {
          id: 'generate',
          kind: 'generate',
          inputs: { test_set: 'split', images: 'curate', adapter: 'train' },
        },
      );
    } else {
      stages.push({
        id: 'generate',
        kind: 'generate',
        inputs: { test_set: 'split', images: 'curate' },
      });
    }
    stages.push({
      id: 'evaluate',
      kind: 'evaluate',
      inputs: { predictions: 'generate', distractors: 'distractors' },
    });
    return stages;
  },
  checkSpec(spec) {
    const issues: { path: string; message: string }[] = [];
    issues.push(...biomedicaSettingIssues(spec.data));
    const llm = (spec.llm ?? {}) as { provider?: string; base_url?: string; api_key_env?: string };
    if (llm.provider === 'openai' && !llm.base_url) {
      issues.push({
        path: 'llm.provider',
        message:
          'llm.provider is openai but llm.base_url is not set; give the server address, e.g. http://localhost:8000/v1',
      });
    }
    if (llm.provider === 'local' && llm.base_url) {
      issues.push({
        path: 'llm.base_url',
        message:
          'llm.base_url has no effect with the local provider, which runs the model in-process',
      });
    }
    const train = (spec.train ?? {}) as {
      batch_size?: number;
      grad_accum?: number;
      method?: string;
    };
    const data = (spec.data ?? {}) as { train_size?: number | 'all'; test_fraction?: number };
    if (train.method !== 'none' && data.test_fraction === 1) {
      issues.push({
        path: 'data.test_fraction',
        message:
          'data.test_fraction is 1, so every image is in test and a tuned variant has nothing to train on; use 1 only with train.method: none',
      });
    }
    if (
      train.method !== 'none' &&
      typeof data.train_size === 'number' &&
      (train.batch_size ?? 1) * (train.grad_accum ?? 1) > data.train_size
    ) {
      issues.push({
        path: 'train.grad_accum',
        message: `an effective batch of ${(train.batch_size ?? 1) * (train.grad_accum ?? 1)} (batch_size x grad_accum) is larger than data.train_size ${data.train_size}; not one optimizer step would see a full batch`,
      });
    }
    return issues;
  },
};

/**
 * BIOMEDICA's shards carry no label, question or answer column, and their fields are named by
 * the source: settings that only a table source reads are refused with it rather than ignored.
 */
function biomedicaSettingIssues(data: unknown): { path: string; message: string }[] {
  const { source, columns, labeller, qa } = (data ?? {}) as {
    source?: { type?: string };
    columns?: unknown;
    labeller?: string;
    qa?: string;
  };
  if (source?.type !== 'local' && source?.type !== 'hub') return [];
  const issues: { path: string; message: string }[] = [];
  const refuse = (path: string, what: string) =>
    issues.push({
      path,
      message: `${path} ${what}, and a BIOMEDICA source (data.source.type ${source.type}) has none; use it with an imagefolder, manifest or parquet source`,
    });
  if (columns !== undefined) refuse('data.columns', 'maps the columns of a table source');
  if (labeller === 'from_source') refuse('data.labeller', "takes the source's own labels");
  if (qa === 'from_source') refuse('data.qa', "takes the source's own QA pairs");
  return issues;
}
