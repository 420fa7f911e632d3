import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type CommandCode,
  EXIT_OK,
  EXIT_STAGE_FAILED,
  EXIT_USAGE,
} from '../../runner/cli/cli-context.ts';
import { loadPlan, openStore, specOptions } from '../../runner/cli/common.ts';
import { hubAccess } from '../shared/hub-access.ts';
import { type ExportResult, exportVariant, MERGED_DIR } from './export-variant.ts';
import { type Pushed, pushFolder } from './hub-push.ts';
import { type Registered, registerVariant } from './register-model.ts';
import { runArguments, variantStages } from './variant-stages.ts';

/**
 * `dermatune export <spec> --variant V --to DIR [--merge]`: the variant's stored adapter as a
 * folder that plain transformers and PEFT load, with the study's processor settings, generation
 * config and a model card; `--merge` adds the merged full weights. The store is only read.
 */
export const exportCommand: CommandCode = {
  usage:
    'dermatune export <spec.yaml> --variant V [--to DIR] [--merge] [--push REPO] [--register NAME] [--set key=value]... [--json]',
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
    push: {
      type: 'string',
      description:
        'upload the export to this hub model repository (owner/name) in one commit, with HF_TOKEN; a rerun sends only what is missing',
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
    const push = args.values.push;
    const hub = hubAccess(ctx.io.env);
    if (typeof push === 'string') {
      if (!/^[\w.-]+\/[\w.-]+$/.test(push)) {
        ctx.io.stderr(`--push ${push}: name the repository as owner/name\n`);
        return EXIT_USAGE;
      }
      if (!hub.token) {
        ctx.io.stderr(
          `--push ${push} needs HF_TOKEN (a token with write access); nothing was pushed\n`,
        );
        return EXIT_USAGE;
      }
    }
    const wantsFolder = typeof to === 'string' && to.trim() !== '';
    if (!wantsFolder && typeof register !== 'string' && typeof push !== 'string') {
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
    const report: { export?: ExportResult; pushed?: Pushed; registered?: Registered } = {};
    // A push without --to pushes an export made in a scratch folder, removed afterwards.
    const scratch =
      !wantsFolder && typeof push === 'string'
        ? await mkdtemp(join(tmpdir(), 'dermatune-push-'))
        : undefined;
    try {
      if (wantsFolder || scratch) {
        const exported = await exportVariant({
          stages: stages.value,
          specName: plan.specName,
          to: scratch ? join(scratch, 'export') : resolve(ctx.io.cwd, to as string),
          merge: args.values.merge === true,
        });
        if (!exported.ok) {
          ctx.io.stderr(`${exported.error.message}\n`);
          return exported.error.reason === 'input' ? EXIT_USAGE : EXIT_STAGE_FAILED;
        }
        if (!scratch) report.export = exported.value;
        if (typeof push === 'string' && hub.token) {
          const pushed = await pushFolder({
            dir: exported.value.dir,
            repo: push,
            endpoint: hub.endpoint,
            token: hub.token,
            summary: `dermatune export of ${plan.specName} variant ${variant}`,
          });
          if (!pushed.ok) {
            ctx.io.stderr(`--push ${push}: ${pushed.error.message}\n`);
            return pushed.error.reason === 'refused' ? EXIT_USAGE : EXIT_STAGE_FAILED;
          }
          report.pushed = pushed.value;
        }
      }
    } finally {
      if (scratch) await rm(scratch, { recursive: true, force: true });
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
    if (report.pushed) {
      ctx.io.stdout(
        `Pushed ${report.pushed.files} files to ${push} (${report.pushed.uploaded} LFS objects sent, ${report.pushed.reused} already there): ${report.pushed.commitUrl}\n`,
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
