import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CommandCode,
  EXIT_OK,
  EXIT_STAGE_FAILED,
  EXIT_USAGE,
} from '../../runner/cli/cli-context.ts';
import { loadPlan, specOptions } from '../../runner/cli/common.ts';
import { projectRoot } from '../../runner/project-root.ts';
import type { TrainParams } from '../train/contract.ts';
import { memoryEstimateRequest } from './job-builder.ts';
import { type MemoryEstimateRequest, workerDoctor } from './worker-doctor.ts';

const GIB = 1024 ** 3;

/**
 * `dermatune doctor`: what this machine can run. Node, the Python worker's stack (torch, CUDA,
 * bf16), and the models available offline, so a researcher knows before a sweep whether the
 * paper's models or only the stand-ins are at hand.
 */
export const doctorCommand: CommandCode = {
  usage: 'dermatune doctor [spec.yaml] [--set key=value]... [--json]',
  options: {
    ...specOptions,
    json: { type: 'boolean', description: 'print the report as JSON' },
  },
  // With a spec: the GPU memory each of its training jobs needs, against the GPUs here.
  positionals: [{ name: 'spec', required: false }],
  async run(args, ctx) {
    const requests: MemoryEstimateRequest[] = [];
    if (args.positionals[0] !== undefined) {
      const plan = await loadPlan(args, ctx);
      if (!plan) return EXIT_USAGE;
      for (const node of plan.graph.nodes) {
        if (node.kind.name !== 'train') continue;
        const params = node.params as TrainParams;
        if (params.train.method === 'none') continue;
        requests.push(memoryEstimateRequest(node.id, params));
      }
    }
    const log = join(await mkdtemp(join(tmpdir(), 'dermatune-doctor-')), 'doctor.log');
    const worker = await workerDoctor(log, requests);
    const modelsRoot = join(projectRoot(), '.dermatune', 'models');
    const local = await readdir(modelsRoot).catch(() => [] as string[]);
    const report = {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      models_dir: modelsRoot,
      local_models: local.sort(),
      worker: worker.ok ? worker.value : { error: worker.error },
    };
    if (args.values.json) {
      ctx.io.stdout(`${JSON.stringify(report, null, 2)}\n`);
      return worker.ok ? EXIT_OK : EXIT_STAGE_FAILED;
    }
    const lines = [`node      ${report.node} (${report.platform})`];
    if (worker.ok) {
      const w = worker.value;
      lines.push(`python    ${w.python.version} (${w.python.executable})`);
      for (const [name, version] of Object.entries(w.packages))
        lines.push(`  ${name.padEnd(14)}${version ?? 'missing'}`);
      lines.push(
        `cuda      ${w.cuda.available ? `${w.cuda.version} on ${w.cuda.devices.join(', ')}; bf16 ${w.cuda.bf16 ? 'yes' : 'no'}` : 'not available: training and generation run on the CPU'}`,
        `threads   ${w.cpu_threads}`,
        'models the worker can load offline:',
        ...w.models.map(
          (m) =>
            `  ${m.name}${m.stand_in_for ? ` (a stand-in for ${m.stand_in_for})` : ''}  ${m.path}`,
        ),
      );
      const largest = Math.max(0, ...w.gpu_memory);
      if (w.memory_estimates.length > 0)
        lines.push('GPU memory of the training jobs (an estimate):');
      for (const e of w.memory_estimates) {
        const verdict =
          e.bytes === undefined
            ? ''
            : largest === 0
              ? ''
              : e.bytes > largest
                ? `  TOO LARGE for the ${(largest / GIB).toFixed(1)} GiB GPU here`
                : '  fits';
        lines.push(`  ${e.name}: ${e.error ?? e.description}${verdict}`);
      }
    } else {
      lines.push(`python worker: ${worker.error.message} (log: ${log})`);
    }
    lines.push(`files in ${modelsRoot}: ${report.local_models.join(', ') || 'none yet'}`);
    ctx.io.stdout(`${lines.join('\n')}\n`);
    return worker.ok ? EXIT_OK : EXIT_STAGE_FAILED;
  },
};
