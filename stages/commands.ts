import type { Command } from '../runner/cli/cli-context.ts';

/** The study's own commands, added to the runner's generic ones by the binary; loaded when run. */
export const studyCommands: readonly Command[] = [
  {
    name: 'table',
    summary:
      "print the paper's Table 1 for a sweep and write it (Markdown, CSV), its plots and an HTML report",
    load: async () => (await import('./report/table-command.ts')).tableCommand,
  },
  {
    name: 'score',
    summary:
      'score any predictions file: BLEU, sacreBLEU, ROUGE, BERTScore, accuracy when options are given',
    load: async () => (await import('./evaluate/score-command.ts')).scoreCommand,
  },
  {
    name: 'ask',
    summary:
      "ask tuned variants (or the untuned base) about a new image; each answers with the study's settings",
    load: async () => (await import('./tuned-model/ask-command.ts')).askCommand,
  },
  {
    name: 'serve',
    summary:
      "a local page to ask the sweep's variants about an image side by side, beside their Table 1 values",
    load: async () => (await import('./tuned-model/serve-command.ts')).serveCommand,
  },
  {
    name: 'export',
    summary:
      "write a tuned variant as a PEFT adapter folder (the study's processor and decoding settings, a model card); --merge adds merged weights",
    load: async () => (await import('./tuned-model/export-command.ts')).exportCommand,
  },
  {
    name: 'doctor',
    summary:
      'report Node, Python, torch, CUDA and the models available locally (sets up the worker on first use)',
    load: async () => (await import('./model-worker/doctor-command.ts')).doctorCommand,
  },
];
