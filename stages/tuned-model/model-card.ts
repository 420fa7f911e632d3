import { stringify } from 'yaml';
import { INTERVAL_METRICS, intervalMetricNames } from '../evaluate/metric-intervals.ts';
import type { GenerateSettings } from '../model-worker/worker-job.ts';
import { decodingWords } from './decoding-words.ts';
import type { TrainingLicence } from './training-licence.ts';

/**
 * The exported folder's README.md: the hub's model-card metadata in YAML front matter
 * (https://huggingface.co/docs/hub/model-cards; the field list is hub-docs' modelcard.md:
 * `base_model`, `library_name`, `license`, `tags`, `pipeline_tag`, `model-index`), then what a
 * reader needs to trust and reproduce it: the study's metrics with their intervals, how it
 * decodes, the data's provenance, the spec and the stage keys. Pure: the caller reads the store.
 */
export interface ModelCardInput {
  specName: string;
  variant: string;
  description?: string;
  model: { base: string; revision: string };
  licence: TrainingLicence;
  /** The evaluate stage's summary metrics (with or without the `eval/` prefix); empty when not evaluated. */
  metrics: Record<string, number>;
  settings: GenerateSettings;
  imageSize: number | null;
  provenance: { records: number; figures: number; articles: number };
  /** The variant's resolved spec (defaults applied). */
  spec: Record<string, unknown>;
  keys: { stage: string; kind: string; key: string }[];
  /** The merged weights' folder inside the export, when `--merge` wrote one. */
  mergedDir?: string;
}

/** A hub model id is `name` or `owner/name`; a path or a stand-in's local name is not one. */
export function isHubId(base: string): boolean {
  return /^[\w.-]+\/[\w.-]+$/.test(base);
}

const METRIC_LABELS: Record<(typeof INTERVAL_METRICS)[number], string> = {
  accuracy: 'Accuracy (semantic matching)',
  bleu: 'BLEU',
  rouge1: 'ROUGE-1',
  rougeL: 'ROUGE-L',
  bertscore_f1: 'BERTScore F1',
};

interface CardMetric {
  type: string;
  label: string;
  value: number;
  interval?: [number, number];
}

export function cardMetrics(metrics: Record<string, number>): CardMetric[] {
  const read = (name: string) => metrics[name] ?? metrics[`eval/${name}`];
  return INTERVAL_METRICS.flatMap((type) => {
    const value = read(type);
    if (value === undefined) return [];
    const names = intervalMetricNames(type);
    const low = read(names.low) ?? read(`${type}_ci_low`);
    const high = read(names.high) ?? read(`${type}_ci_high`);
    return [
      {
        type,
        label: METRIC_LABELS[type],
        value,
        ...(low !== undefined && high !== undefined && { interval: [low, high] }),
      },
    ];
  });
}

export function renderModelCard(input: ModelCardInput): string {
  const metrics = cardMetrics(input.metrics);
  const name = `${input.specName}-${input.variant}`;
  const hub = isHubId(input.model.base);
  const front: Record<string, unknown> = {
    ...(hub && { base_model: input.model.base }),
    library_name: 'peft',
    license: input.licence.id,
    ...(input.licence.id === 'other' && {
      license_name: 'training-figures-licences',
      license_link: 'README.md#licence',
    }),
    pipeline_tag: 'image-text-to-text',
    tags: ['lora', 'peft', 'dermatune', 'medical', 'dermatology', 'vision-language'],
    ...(metrics.length > 0 && {
      'model-index': [
        {
          name,
          results: [
            {
              task: { type: 'visual-question-answering', name: 'Visual question answering' },
              dataset: { type: `${input.specName}-test`, name: `${input.specName} test split` },
              metrics: metrics.map((m) => ({
                type: m.type,
                value: m.value,
                name: m.interval
                  ? `${m.label} (95% CI ${fmt(m.interval[0])} to ${fmt(m.interval[1])})`
                  : m.label,
              })),
            },
          ],
        },
      ],
    }),
  };
  const base = hub
    ? `[${input.model.base}](https://huggingface.co/${input.model.base}) at revision \`${input.model.revision || 'main'}\``
    : `\`${input.model.base}\` (a local model that dermatune builds, not on the hub)`;
  const lines = [
    '---',
    stringify(front).trimEnd(),
    '---',
    '',
    `# ${name}`,
    '',
    `A LoRA adapter for ${base}, trained by dermatune as variant \`${input.variant}\` of the study \`${input.specName}\`.`,
    ...(input.description ? ['', input.description] : []),
    '',
    '## Use',
    '',
    '```python',
    'from peft import PeftModel',
    'from transformers import AutoModelForImageTextToText, AutoProcessor, GenerationConfig',
    '',
    `base = AutoModelForImageTextToText.from_pretrained(${JSON.stringify(input.model.base)}${hub ? `, revision=${JSON.stringify(input.model.revision || 'main')}` : ''})`,
    'model = PeftModel.from_pretrained(base, "path/to/this/folder")',
    'processor = AutoProcessor.from_pretrained("path/to/this/folder")',
    'generation = GenerationConfig.from_pretrained("path/to/this/folder")',
    '```',
    '',
    `The processor resizes images to ${input.imageSize === null ? "the base model's own size" : `a longest edge of ${input.imageSize} px`} and the generation config decodes as the study evaluated this variant: ${decodingWords(input.settings)}.`,
    ...(input.settings.no_repeat_ngram_size > 0
      ? [
          `The study also banned repeating a ${input.settings.no_repeat_ngram_size}-gram of the answer itself (not counting the question); transformers' \`no_repeat_ngram_size\` counts the prompt too, so it is not in the generation config.`,
        ]
      : []),
    ...(input.mergedDir
      ? [
          '',
          `\`${input.mergedDir}/\` holds the adapter merged into the base weights (safetensors), loadable with transformers alone.`,
        ]
      : []),
    '',
    '## Evaluation',
    '',
    ...(metrics.length === 0
      ? ['The store holds no evaluation of this variant yet.']
      : [
          '| metric | value | 95% interval |',
          '|---|---|---|',
          ...metrics.map(
            (m) =>
              `| ${m.label} | ${fmt(m.value)} | ${m.interval ? `${fmt(m.interval[0])} to ${fmt(m.interval[1])}` : '—'} |`,
          ),
        ]),
    '',
    '## Training data',
    '',
    `${input.provenance.records} question-answer rows about ${input.provenance.figures} figures from ${input.provenance.articles} articles.`,
    '',
    '## Licence',
    '',
    `\`${input.licence.id}\`: ${input.licence.why}.`,
    '',
    "| training figures' licence | rows |",
    '|---|---|',
    ...Object.entries(input.licence.counts).map(([licence, n]) => `| ${licence} | ${n} |`),
    '',
    '## Stage keys',
    '',
    'Each stage of the variant by its content key in the dermatune store that produced it:',
    '',
    '| stage | kind | key |',
    '|---|---|---|',
    ...input.keys.map((k) => `| ${k.stage} | ${k.kind} | \`${k.key}\` |`),
    '',
    '## Spec',
    '',
    '```yaml',
    stringify(input.spec).trimEnd(),
    '```',
    '',
  ];
  return lines.join('\n');
}

function fmt(value: number): string {
  return Number(value.toPrecision(4)).toString();
}
