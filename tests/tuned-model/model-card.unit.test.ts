import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cardMetrics, isHubId, renderModelCard } from '../../stages/tuned-model/model-card.ts';
import { trainingLicence } from '../../stages/tuned-model/training-licence.ts';

describe('the licence an export carries', () => {
  it('takes the most restrictive terms of the training figures', () => {
    expect(trainingLicence(['CC BY', 'CC BY', 'CC0']).id).toBe('cc-by-4.0');
    expect(trainingLicence(['CC BY', 'CC BY-NC']).id).toBe('cc-by-nc-4.0');
    expect(trainingLicence(['CC BY-SA', 'CC BY-NC']).id).toBe('cc-by-nc-sa-4.0');
    expect(trainingLicence(['CC0', 'cc0']).id).toBe('cc0-1.0');
  });

  it('allows no open licence when a figure forbids derivatives or names none', () => {
    const noDerivatives = trainingLicence(['CC BY', 'CC BY-NC-ND']);
    expect(noDerivatives.id).toBe('other');
    expect(noDerivatives.why).toContain('CC BY-NC-ND');
    const unknown = trainingLicence(['CC BY', null, undefined]);
    expect(unknown).toMatchObject({ id: 'other', counts: { 'CC BY': 1, unknown: 2 } });
  });
});

describe('the model card', () => {
  const input = {
    specName: 'paper',
    variant: 'qa-all',
    model: { base: 'HuggingFaceTB/SmolVLM-Base', revision: 'main' },
    licence: trainingLicence(['CC BY', 'CC BY-NC']),
    metrics: {
      'eval/bleu': 0.12,
      'eval/bleu_ci_low': 0.1,
      'eval/bleu_ci_high': 0.14,
      'eval/accuracy': 0.7,
      'eval/accuracy_ci_low': 0.6,
      'eval/accuracy_ci_high': 0.8,
      'eval/rougeL': 0.3,
    },
    settings: {
      max_new_tokens: 256,
      image_size: 384,
      batch_size: 8,
      repetition_penalty: 1.2,
      no_repeat_ngram_size: 4,
      do_sample: false,
      temperature: 1,
      top_p: 1,
      device: 'auto' as const,
      precision: 'auto' as const,
    },
    imageSize: 384,
    provenance: { records: 30, figures: 10, articles: 7 },
    spec: { name: 'paper', train: { method: 'lora' } },
    keys: [{ stage: 'train', kind: 'train', key: 'a'.repeat(64) }],
  };

  it("carries the hub's metadata: base model, library, licence, metrics with intervals", () => {
    const card = renderModelCard(input);
    const front = parse(card.split('---\n')[1] ?? '') as {
      'model-index': { results: { metrics: unknown[] }[] }[];
    };
    expect(front).toMatchObject({
      base_model: 'HuggingFaceTB/SmolVLM-Base',
      library_name: 'peft',
      license: 'cc-by-nc-4.0',
      pipeline_tag: 'image-text-to-text',
    });
    const metrics = front['model-index'][0]?.results[0]?.metrics;
    expect(metrics).toEqual([
      { type: 'accuracy', value: 0.7, name: 'Accuracy (semantic matching) (95% CI 0.6 to 0.8)' },
      { type: 'bleu', value: 0.12, name: 'BLEU (95% CI 0.1 to 0.14)' },
      { type: 'rougeL', value: 0.3, name: 'ROUGE-L' },
    ]);
    expect(card).toContain('| BLEU | 0.12 | 0.1 to 0.14 |');
    expect(card).toContain(`| train | train | \`${'a'.repeat(64)}\` |`);
    expect(card).toContain('revision="main"');
    expect(card).toContain(
      'greedy, up to 256 new tokens, repetition penalty 1.2, no repeated 4-grams',
    );
    expect(card).toContain("transformers' `no_repeat_ngram_size` counts the prompt too");
  });

  it('names no base_model in the metadata for a model that is not on the hub', () => {
    expect(isHubId('tiny-smolvlm-standin')).toBe(false);
    expect(isHubId('/work/models/x')).toBe(false);
    const card = renderModelCard({
      ...input,
      model: { base: 'tiny-smolvlm-standin', revision: '' },
    });
    expect(parse(card.split('---\n')[1] ?? '')).not.toHaveProperty('base_model');
  });

  it('reads the bootstrap interval of the accuracy before its Wilson interval', () => {
    expect(
      cardMetrics({
        accuracy: 0.5,
        accuracy_ci_low: 0.4,
        accuracy_ci_high: 0.6,
        accuracy_bootstrap_ci_low: 0.41,
        accuracy_bootstrap_ci_high: 0.59,
      }),
    ).toEqual([
      {
        type: 'accuracy',
        label: 'Accuracy (semantic matching)',
        value: 0.5,
        interval: [0.41, 0.59],
      },
    ]);
  });
});
