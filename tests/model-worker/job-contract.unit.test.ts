import { appendFile, cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATE_OUTPUT } from '../../stages/generate/contract.ts';
import {
  generateJob,
  memoryEstimateRequest,
  trainJob,
} from '../../stages/model-worker/job-builder.ts';
import { workerJobSchema } from '../../stages/model-worker/job-schema.ts';
import { renderJobContractFiles } from '../../stages/model-worker/job-schema-files.ts';
import { pythonImports } from '../../stages/model-worker/python-imports.ts';
import {
  defaultGenerateSettings,
  defaultTrainSettings,
} from '../../stages/model-worker/spec-defaults.ts';
import { WORKER_DIR } from '../../stages/model-worker/worker-client.ts';
import { jobModules, workerFingerprint } from '../../stages/model-worker/worker-fingerprint.ts';
import type { TrainParams } from '../../stages/train/contract.ts';
import { TRAIN_OUTPUT } from '../../stages/train/contract.ts';
import { trainKind } from '../../stages/train/kind.ts';

describe('the worker job contract is generated from the spec schema', () => {
  it('the generated job schema and TypeScript types are current (npm run schemas)', async () => {
    for (const { path, text } of await renderJobContractFiles()) {
      expect(await readFile(path, 'utf8'), `${path} is stale: run npm run schemas`).toBe(text);
    }
  });

  it('defaults, ranges and enums come from the spec schema, once', () => {
    const schema = workerJobSchema({ documented: false }) as {
      $defs: Record<string, { properties: Record<string, Record<string, unknown>> }>;
    };
    const train = schema.$defs.TrainSettings?.properties ?? {};
    const spec = (
      trainKind.paramsSchema as { properties: { train: { properties: Record<string, object> } } }
    ).properties.train.properties;
    // The spec's enum, not a second list (the schema had three schedulers, the worker four).
    expect(train.lr_scheduler?.enum).toEqual((spec.lr_scheduler as { enum: string[] }).enum);
    // Runner-only settings are not in the job; the job carries no default of its own.
    expect(Object.keys(train)).not.toContain('method');
    expect(Object.keys(train)).not.toContain('seed');
    expect(JSON.stringify(schema.$defs.TrainSettings)).not.toContain('"default"');
    // Output names are the stage contracts' constants.
    expect(schema.$defs.TrainOutputs?.properties.adapterConfig).toEqual({
      const: TRAIN_OUTPUT.adapterConfig,
    });
    expect(schema.$defs.GenerateOutputs?.properties.predictions).toEqual({
      const: GENERATE_OUTPUT.predictions,
    });
  });
});

const params: TrainParams = {
  seed: 42,
  model: { base: 'HuggingFaceTB/SmolVLM-Base', revision: 'main' },
  data: { supervision: 'qa' },
  // The schema's defaults, plus what only the runner reads.
  train: { ...defaultTrainSettings({ device: 'cuda' }), method: 'lora', seed: 7 },
};

describe('one projection of a stage params onto a job', () => {
  const paths = {
    records: '/store/train.jsonl',
    imageRoot: '/store/images',
    outDir: '/staging/out',
    modelsDir: '/models',
    resumeDir: undefined,
  };

  it('the run path and the memory estimate send the same settings, without method or seed', () => {
    const job = trainJob(params, paths);
    expect(job.ok).toBe(true);
    if (!job.ok) return;
    const estimate = memoryEstimateRequest('train[qa]', params);
    expect(estimate.train).toEqual(job.value.train);
    expect(Object.keys(job.value.train)).not.toContain('method');
    expect(Object.keys(job.value.train)).not.toContain('seed');
    // train.seed seeds this training alone.
    expect(job.value.seed).toBe(7);
    expect(estimate.model).toEqual({ base: 'HuggingFaceTB/SmolVLM-Base', revision: 'main' });
  });

  it('an untuned variant has no train job; its generate job names no adapter', () => {
    const none = trainJob({ ...params, train: { ...params.train, method: 'none' } }, paths);
    expect(none.ok ? 'ok' : none.error.reason).toBe('invalid-input');
    const generate = generateJob(
      {
        model: params.model,
        generate: defaultGenerateSettings(),
      },
      { ...paths, adapterDir: undefined },
    );
    expect(generate.model.adapter).toBeNull();
    expect(generate.outputs).toEqual(GENERATE_OUTPUT);
  });
});

describe('Python imports, as the worker digest reads them', () => {
  it('relative, absolute, lazy and bracketed imports; never strings or comments', () => {
    const source = [
      '"""Docstring: from .doctor import run_doctor is an example, not an import."""',
      'import json',
      'from .protocol import WorkerError  # from .memory import x',
      'from .examples import (',
      '    chat_examples,',
      '    collate,',
      ')',
      'import dermatune_worker.images as images',
      'from dermatune_worker.models import load_model',
      'from . import checkpoint, tiny_model as tiny',
      'from .. import elsewhere',
      'def later():',
      "    text = 'from .generate import nothing'",
      '    from .train import run_train',
      '    import numpy as np; from .job import resolve_job',
    ].join('\n');
    expect(pythonImports(source, 'dermatune_worker')).toEqual([
      'checkpoint',
      'examples',
      'images',
      'job',
      'models',
      'protocol',
      'tiny_model',
      'train',
    ]);
  });
});

describe("a job type's worker digest covers the modules it runs, and only those", () => {
  async function copyOfWorker(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'dermatune-worker-copy-'));
    await cp(join(WORKER_DIR, 'dermatune_worker'), join(dir, 'dermatune_worker'), {
      recursive: true,
      filter: (path) => !path.includes('__pycache__'),
    });
    await cp(join(WORKER_DIR, 'requirements.txt'), join(dir, 'requirements.txt'));
    return dir;
  }

  async function digests(dir: string) {
    return {
      train: await workerFingerprint('train', dir),
      generate: await workerFingerprint('generate', dir),
    };
  }

  it('is the same for a copy of the worker', async () => {
    expect(await digests(await copyOfWorker())).toEqual(await digests(WORKER_DIR));
  });

  it('a new module no job imports, or a change to doctor.py, moves no key', async () => {
    const before = await digests(WORKER_DIR);
    const dir = await copyOfWorker();
    await writeFile(join(dir, 'dermatune_worker', 'new_family.py'), 'FAMILY = "new"\n');
    await appendFile(join(dir, 'dermatune_worker', 'doctor.py'), '\n# a doctor-only change\n');
    await appendFile(
      join(dir, 'dermatune_worker', 'tiny_model.py'),
      '\n# a stand-in builder change\n',
    );
    expect(await digests(dir)).toEqual(before);
    expect(await jobModules('doctor', dir)).toContain('doctor.py');
    expect(await workerFingerprint('doctor', dir)).not.toBe(await workerFingerprint('doctor'));
  });

  it('a change to a module the job imports moves its key (and only the jobs that import it)', async () => {
    const before = await digests(WORKER_DIR);
    const examples = await copyOfWorker();
    await appendFile(join(examples, 'dermatune_worker', 'examples.py'), '\n# changed\n');
    const afterExamples = await digests(examples);
    expect(afterExamples.train).not.toBe(before.train);
    expect(afterExamples.generate).not.toBe(before.generate);

    const generate = await copyOfWorker();
    await appendFile(join(generate, 'dermatune_worker', 'generate.py'), '\n# changed\n');
    const afterGenerate = await digests(generate);
    expect(afterGenerate.train).toBe(before.train);
    expect(afterGenerate.generate).not.toBe(before.generate);

    // Importing a new module into a job's graph brings it in.
    const imported = await copyOfWorker();
    await writeFile(join(imported, 'dermatune_worker', 'new_family.py'), 'FAMILY = "new"\n');
    await appendFile(
      join(imported, 'dermatune_worker', 'train.py'),
      '\n\ndef _family():\n    from .new_family import FAMILY\n    return FAMILY\n',
    );
    expect(await jobModules('train', imported)).toContain('new_family.py');
    const pins = await copyOfWorker();
    await appendFile(join(pins, 'requirements.txt'), '# a comment still changes the pinned file\n');
    expect((await digests(pins)).generate).not.toBe(before.generate);
  });
});
