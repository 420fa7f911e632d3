import { resolve } from 'node:path';
import {
  type CommandCode,
  EXIT_OK,
  EXIT_STAGE_FAILED,
  EXIT_USAGE,
} from '../../runner/cli/cli-context.ts';
import { loadPlan, openStore, specOptions } from '../../runner/cli/common.ts';
import { type ExportResult, exportVariant, MERGED_DIR } from './export-variant.ts';
import { type Registered, registerVariant } from './register-model.ts';
import { runArguments, variantStages } from './variant-stages.ts';

/**
 * `dermatune export <spec> --variant V --to DIR [--merge]`: the variant's stored adapter as a
 * folder that plain transformers and PEFT load, with the study's processor settings, generation
 * config and a model card; `--merge` adds the merged full weights. The store is only read.
 */
export const exportCommand: CommandCode = {
  usage:
    'dermatune export <spec.yaml> --variant V [--to DIR [--merge]] [--register NAME] [--set key=value]... [--json]',
  options: {
    ...Object.fromEntries(
      Object.entries(specOptions).filter(([name]) => name === 'set' || name === 'store'),
    ),
    variant: { type: 'string', description: 'the tuned variant to export' },
    to: { type: 'string', description: 'a new folder for the export' },
    merge: {
      type: 'boolean',
      description: `also write the adapter merged into the base weights (safetensors) under ${MERGED_DIR}/`,
    },
    register: {
      type: 'string',
      description:
        "add a version of this registered model to MLflow's Model Registry, pointing at the variant's logged adapter",
    },
    json: { type: 'boolean', description: 'print what was written as JSON' },
  },
  positionals: [{ name: 'spec', required: true }],
  async run(args, ctx) {
    const variant = args.values.variant;
    const to = args.values.to;
    if (typeof variant !== 'string') {
      ctx.io.stderr('name the variant to export with --variant V\n');
      return EXIT_USAGE;
    }
    const register = args.values.register;
    if ((typeof to !== 'string' || to.trim() === '') && typeof register !== 'string') {
      ctx.io.stderr(
        'name a new folder for the export with --to DIR (or a model with --register NAME)\n',
      );
      return EXIT_USAGE;
    }
    const plan = await loadPlan(args, ctx, { fresh: false });
    if (!plan) return EXIT_USAGE;
    const store = openStore(args, ctx);
    if (!store) return EXIT_USAGE;
    const stages = await variantStages(plan, store, variant, runArguments(args));
    if (!stages.ok) {
      ctx.io.stderr(`${stages.error.message}\n`);
      return EXIT_USAGE;
    }
    const report: { export?: ExportResult; registered?: Registered } = {};
    if (typeof to === 'string' && to.trim() !== '') {
      const exported = await exportVariant({
        stages: stages.value,
        specName: plan.specName,
        to: resolve(ctx.io.cwd, to),
        merge: args.values.merge === true,
      });
      if (!exported.ok) {
        ctx.io.stderr(`${exported.error.message}\n`);
        return exported.error.reason === 'input' ? EXIT_USAGE : EXIT_STAGE_FAILED;
      }
      report.export = exported.value;
    }
    if (typeof register === 'string') {
      const registered = await registerVariant({
        storeDir: store.root,
        env: ctx.io.env,
        name: register,
        specName: plan.specName,
        stages: stages.value,
      });
      if (!registered.ok) {
        ctx.io.stderr(`--register ${register}: ${registered.error}\n`);
        return EXIT_USAGE;
      }
      report.registered = registered.value;
    }
    if (args.values.json) {
      ctx.io.stdout(`${JSON.stringify(report, null, 2)}\n`);
      return EXIT_OK;
    }
    const result = report.export;
    if (result) {
      ctx.io.stdout(
        `Exported ${variant} to ${result.dir}: a PEFT adapter (licence ${result.licence}), its processor (image ${result.imageSize ?? 'default'} px), generation config and model card${result.merged ? `, and merged weights in ${MERGED_DIR}/` : ''}.\n`,
      );
    }
    const version = report.registered;
    if (version) {
      ctx.io.stdout(
        `Registered ${variant} as version ${version.version} of the model ${version.name} (run ${version.runId}, ${version.source}).\n`,
      );
    }
    return EXIT_OK;
  },
};
