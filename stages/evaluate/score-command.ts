import { resolve } from 'node:path';
import {
  type CommandCode,
  EXIT_OK,
  EXIT_STAGE_FAILED,
  EXIT_USAGE,
} from '../../runner/cli/cli-context.ts';
import type { EvaluateParams } from './contract.ts';
import { readPredictionLines } from './prediction-lines.ts';
import { evaluateEncoders, scoreWithEncoders } from './run-evaluate.ts';
import { scoreMetrics } from './score-predictions.ts';

/**
 * `dermatune score <predictions.jsonl>`: every metric of the evaluate stage on any file of
 * lines with `prediction`, `reference` and optionally `options` + `answer_index` and `kind`.
 */
export const scoreCommand: CommandCode = {
  usage: 'dermatune score <predictions.jsonl> [--json] [--stemmer] [--smooth] [--seed N]',
  options: {
    json: { type: 'boolean', description: 'print the full report as JSON' },
    stemmer: { type: 'boolean', description: "ROUGE with rouge_score's Porter stemmer" },
    smooth: { type: 'boolean', description: "BLEU with evaluate's add-one smoothing" },
    seed: { type: 'string', description: 'seed of the option order for the accuracy (default 42)' },
    'bertscore-model': {
      type: 'string',
      description: 'BERTScore encoder (default all-MiniLM-L6-v2)',
    },
    encoder: {
      type: 'string',
      description: 'sentence encoder for the accuracy (default all-MiniLM-L6-v2)',
    },
  },
  positionals: [{ name: 'predictions', required: true }],
  async run(args, ctx) {
    const seed = args.values.seed === undefined ? 42 : Number(args.values.seed);
    if (!Number.isInteger(seed) || seed < 0) {
      ctx.io.stderr(
        `--seed must be a non-negative integer (got ${JSON.stringify(args.values.seed)})\n`,
      );
      return EXIT_USAGE;
    }
    const file = resolve(ctx.io.cwd, args.positionals[0] ?? '');
    const lines = await readPredictionLines(file);
    if (!lines.ok) {
      ctx.io.stderr(`${lines.error.message}\n`);
      return EXIT_USAGE;
    }
    const params: EvaluateParams = {
      seed,
      eval: {
        bleu: { smooth: args.values.smooth === true },
        rouge: { use_stemmer: args.values.stemmer === true },
        bertscore: {
          model: (args.values['bertscore-model'] as string | undefined) ?? 'all-MiniLM-L6-v2',
          rescale_with_baseline: false,
          idf: false,
        },
        encoder: { model: (args.values.encoder as string | undefined) ?? 'all-MiniLM-L6-v2' },
      },
    };
    // A hub encoder's first use downloads and exports it: its progress goes to stderr.
    const setupLog = (line: string) => ctx.io.stderr(`${line}\n`);
    const encoders = evaluateEncoders({
      bertscore: '--bertscore-model',
      encoder: '--encoder',
      env: ctx.io.env,
    });
    const report = await scoreWithEncoders(lines.value, params, encoders, undefined, setupLog);
    if (!report.ok) {
      ctx.io.stderr(`cannot score ${args.positionals[0]}: ${report.error.message}\n`);
      // An encoder that cannot be had is the flag's or the token's to fix, not a failed run.
      const refused = ['missing-model', 'missing-credentials'].includes(report.error.reason);
      return refused ? EXIT_USAGE : EXIT_STAGE_FAILED;
    }
    if (args.values.json) {
      const { examples: _examples, ...summary } = report.value;
      ctx.io.stdout(
        `${JSON.stringify({ metrics: scoreMetrics(report.value), report: summary }, null, 2)}\n`,
      );
      return EXIT_OK;
    }
    const metrics = scoreMetrics(report.value);
    const width = Math.max(...Object.keys(metrics).map((k) => k.length));
    const rows = Object.entries(metrics).map(
      ([name, value]) =>
        `  ${name.padEnd(width)}  ${Number.isInteger(value) ? value : value.toFixed(4)}`,
    );
    const notes = [
      report.value.bertscore
        ? `BERTScore: ${report.value.bertscore.model} layer ${report.value.bertscore.layer}`
        : '',
      report.value.accuracy
        ? `accuracy encoder: ${report.value.accuracy.encoder}`
        : `accuracy skipped: ${report.value.accuracy_skipped}`,
    ].filter(Boolean);
    ctx.io.stdout(
      `${args.positionals[0]}: ${report.value.count} line(s)\n${rows.join('\n')}\n${notes.join('\n')}\n`,
    );
    return EXIT_OK;
  },
};
