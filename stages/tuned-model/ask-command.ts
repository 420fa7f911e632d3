import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type CliContext,
  type CommandCode,
  EXIT_OK,
  EXIT_STAGE_FAILED,
  EXIT_USAGE,
} from '../../runner/cli/cli-context.ts';
import { listOption, loadPlan, openStore, specOptions } from '../../runner/cli/common.ts';
import { type AskAnswer, askVariant } from './ask-variant.ts';
import { decodingWords } from './decoding-words.ts';
import { readImageInput } from './image-input.ts';
import { runArguments, type VariantStages, variantStages } from './variant-stages.ts';

/**
 * `dermatune ask <spec> --variant V [--variant W]... --image PATH "question"`: each variant's
 * answer about a new image, one after another in the order asked, with the settings the study
 * evaluated it with. Everything is checked (variants, their trainings, the image) before the
 * first model loads; the store is only read, the worker writes into a scratch folder that is
 * removed afterwards.
 */
export const askCommand: CommandCode = {
  usage:
    'dermatune ask <spec.yaml> --variant V [--variant W]... --image PATH "question" [--set key=value]... [--json]',
  options: {
    // The spec's own overrides and store: `--set` changes keys, so it finds what `run --set` stored.
    ...Object.fromEntries(
      Object.entries(specOptions).filter(([name]) => name === 'set' || name === 'store'),
    ),
    variant: {
      type: 'string',
      multiple: true,
      description: 'a variant of the sweep to ask (repeatable, or comma-separated)',
    },
    image: { type: 'string', description: 'the image the question is about' },
    json: { type: 'boolean', description: 'print the answers and their settings as JSON' },
  },
  positionals: [
    { name: 'spec', required: true },
    { name: 'question', required: true },
  ],
  async run(args, ctx) {
    const names = listOption(args, 'variant');
    const imageArg = args.values.image;
    const question = (args.positionals[1] ?? '').trim();
    if (names.length === 0) return usage(ctx, 'name at least one --variant');
    if (typeof imageArg !== 'string') return usage(ctx, 'name the image with --image PATH');
    if (question === '') return usage(ctx, 'the question is empty');
    const plan = await loadPlan(args, ctx, { fresh: false });
    if (!plan) return EXIT_USAGE;
    const store = openStore(args, ctx);
    if (!store) return EXIT_USAGE;
    const runArgs = runArguments(args);
    const chosen: VariantStages[] = [];
    for (const name of [...new Set(names)]) {
      const stages = await variantStages(plan, store, name, runArgs);
      if (!stages.ok) return usage(ctx, stages.error.message);
      chosen.push(stages.value);
    }
    const image = await readImageInput(resolve(ctx.io.cwd, imageArg));
    if (!image.ok) return usage(ctx, image.error);

    const scratch = await mkdtemp(join(tmpdir(), 'dermatune-ask-'));
    try {
      const imagePath = join(scratch, `image.${image.value.extension}`);
      await writeFile(imagePath, image.value.bytes);
      const answers: AskAnswer[] = [];
      if (!args.values.json) ctx.io.stdout(`Q: ${question}\n`);
      for (const stages of chosen) {
        const answer = await askVariant(stages, { text: question, imagePath }, scratch);
        if (!answer.ok) {
          ctx.io.stderr(`${answer.error.message}\n`);
          return answer.error.reason === 'input' ? EXIT_USAGE : EXIT_STAGE_FAILED;
        }
        answers.push(answer.value);
        if (!args.values.json) ctx.io.stdout(renderAnswer(answer.value));
      }
      if (args.values.json) {
        ctx.io.stdout(`${JSON.stringify({ question, image: imageArg, answers }, null, 2)}\n`);
      }
      return EXIT_OK;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  },
};

function usage(ctx: CliContext, line: string): number {
  ctx.io.stderr(`${line}\n`);
  return EXIT_USAGE;
}

function renderAnswer(answer: AskAnswer): string {
  const model = answer.adapterKey
    ? `LoRA adapter ${answer.adapterKey.slice(0, 12)}`
    : `untuned ${answer.model.base}`;
  const image =
    answer.imageSize === null ? "processor's image size" : `image ${answer.imageSize} px`;
  const head = `${answer.variant} · ${model} · ${image} · ${decodingWords(answer.settings)}`;
  return `\n── ${head}\n${answer.answer}\n(${answer.newTokens} tokens, ${answer.seconds.toFixed(1)} s with model load)\n`;
}
