import type { GenerateSettings } from '../model-worker/worker-job.ts';

/** A variant's decoding settings in words, for `ask`'s headings and the model card. */
export function decodingWords(settings: GenerateSettings): string {
  const parts = [
    settings.do_sample
      ? `sampling (temperature ${settings.temperature}, top-p ${settings.top_p})`
      : 'greedy',
    `up to ${settings.max_new_tokens} new tokens`,
  ];
  if (settings.repetition_penalty !== 1) {
    parts.push(`repetition penalty ${settings.repetition_penalty}`);
  }
  if (settings.no_repeat_ngram_size > 0) {
    parts.push(`no repeated ${settings.no_repeat_ngram_size}-grams`);
  }
  return parts.join(', ');
}
