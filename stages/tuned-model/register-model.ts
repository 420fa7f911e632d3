import { fail, ok, type Result } from '../../runner/result.ts';
import { MlflowClient, type MlflowError } from '../../runner/tracking/mlflow-client.ts';
import { startTrackingServer } from '../../runner/tracking/mlflow-server.ts';
import type { MlflowRun } from '../../runner/tracking/mlflow-types.ts';
import { resolveTrackingTarget } from '../../runner/tracking/tracking-target.ts';
import { TRAIN_OUTPUT } from '../train/contract.ts';
import type { VariantStages } from './variant-stages.ts';

/**
 * `export --register NAME`: a version of the registered model NAME in MLflow's Model Registry,
 * pointing at the adapter the variant's run logged (`<run artifacts>/train/adapter`) and tagged
 * with every stage key of the variant. The run is found by its train stage's key tag
 * (`dermatune.stage.train.key`, outcome-batch.ts), the one the runner sets on every variant
 * run; the producing run wins over runs that reused the stored stage. The server is the one
 * runs are tracked on (MLFLOW_TRACKING_URI, else the store's own, started for the call).
 */
export interface Registered {
  name: string;
  version: string;
  source: string;
  runId: string;
}

export async function registerVariant(options: {
  storeDir: string;
  env: Readonly<Record<string, string | undefined>>;
  name: string;
  specName: string;
  stages: VariantStages;
}): Promise<Result<Registered, string>> {
  const { stages } = options;
  const train = stages.train;
  if (!train)
    return fail(`variant ${stages.variant.name} is untuned: it has no adapter to register`);
  const target = resolveTrackingTarget(options.storeDir, options.env);
  if (!target.ok) return fail(target.error.message);
  let stop: (() => Promise<void>) | undefined;
  let url: string;
  if (target.value.kind === 'remote') {
    url = target.value.url;
  } else {
    const started = await startTrackingServer({ storeDir: options.storeDir });
    if (!started.ok)
      return fail(`cannot start the store's MLflow server: ${started.error.message}`);
    url = started.value.url;
    stop = () => started.value.stop();
  }
  const client = new MlflowClient({
    url,
    ...(target.value.kind === 'remote' && target.value.auth && { auth: target.value.auth }),
  });
  try {
    const run = await variantRun(client, options.specName, train.key);
    if (!run.ok) return fail(run.error);
    const refused = (error: MlflowError) =>
      `the model registry at ${url} refused: ${'errorCode' in error ? `${error.errorCode}: ` : ''}${error.message}`;
    const model = await client.ensureRegisteredModel(
      options.name,
      [{ key: 'dermatune.spec', value: options.specName }],
      `LoRA adapters from the dermatune study ${options.specName}`,
    );
    if (!model.ok) return fail(refused(model.error));
    // The observer logs a stage's files under its kind's name (`train/adapter/...`).
    const source = `${run.value.info.artifact_uri}/train/${TRAIN_OUTPUT.adapter}`;
    const version = await client.createModelVersion({
      name: options.name,
      source,
      runId: run.value.info.run_id,
      description: `variant ${stages.variant.name} of ${options.specName}`,
      tags: [
        { key: 'dermatune.variant', value: stages.variant.name },
        { key: 'dermatune.base_model', value: stages.generate.params.model.base },
        ...stages.keys.map((k) => ({ key: `dermatune.stage.${k.stage}.key`, value: k.key })),
      ],
    });
    if (!version.ok) return fail(refused(version.error));
    return ok({ ...version.value, runId: run.value.info.run_id });
  } finally {
    await stop?.();
  }
}

async function variantRun(
  client: MlflowClient,
  specName: string,
  trainKey: string,
): Promise<Result<MlflowRun, string>> {
  const untracked = `no MLflow run holds this training (train key ${trainKey.slice(0, 12)}): run the study with tracking, or send what the journal kept with \`dermatune sync\``;
  const experiment = await client.getExperimentByName(specName);
  if (!experiment.ok) return fail(`MLflow at ${client.url}: ${experiment.error.message}`);
  if (!experiment.value) return fail(untracked);
  const runs = await client.searchRuns({
    experimentIds: [experiment.value.experiment_id],
    filter: `tags.\`dermatune.stage.train.key\` = '${trainKey}'`,
  });
  if (!runs.ok) return fail(`MLflow at ${client.url}: ${runs.error.message}`);
  const tag = (run: MlflowRun, key: string) => run.data.tags?.find((t) => t.key === key)?.value;
  const producing = runs.value.find((run) => tag(run, 'dermatune.from_cache') !== 'true');
  const chosen = producing ?? runs.value[0];
  return chosen ? ok(chosen) : fail(untracked);
}
