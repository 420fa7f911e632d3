import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  NodeInfo,
  NodeOutcome,
  RunObserver,
  SweepInfo,
  VariantInfo,
} from '../../runner/run-events.ts';

/**
 * A made-up sweep of test stages, driven through the observer hooks the way the scheduler calls
 * them: a shared curate -> annotate -> split -> subset chain, then train -> evaluate per variant.
 */
export const PLANTED_SECRET = 'sk-planted-Secret-7c1d9e22aa';

export interface FixtureVariant {
  name: string;
  rank: number;
  steps: number;
}

export interface Fixture {
  sweep: SweepInfo;
  /** Node id -> what its stage produced. */
  outputs: Map<string, { outputDir: string; metrics: Record<string, number>; artifacts: string[] }>;
  lossAt(variant: string, step: number): number;
}

export async function buildFixture(
  root: string,
  specName: string,
  variants: FixtureVariant[],
): Promise<Fixture> {
  const specPath = join(root, `${specName}.yaml`);
  await writeFile(specPath, `name: ${specName}\nsweep:\n  train.lora.rank: [4, 8]\n`);
  const shared: NodeInfo[] = [
    { id: 'curate', kind: 'curate', key: 'k-curate-1', variants: [] },
    { id: 'annotate', kind: 'annotate', key: 'k-annotate-1', variants: [] },
    { id: 'split', kind: 'split', key: 'k-split-1', variants: [] },
    { id: 'subset', kind: 'subset', key: 'k-subset-1', variants: [] },
  ];
  const nodes: NodeInfo[] = [...shared];
  const infos: VariantInfo[] = [];
  for (const v of variants) {
    const train: NodeInfo = {
      id: `train-${v.name}`,
      kind: 'train',
      key: `k-train-${v.rank}`,
      variants: [v.name],
    };
    const evaluate: NodeInfo = {
      id: `evaluate-${v.name}`,
      kind: 'evaluate',
      key: `k-eval-${v.rank}`,
      variants: [v.name],
    };
    nodes.push(train, evaluate);
    for (const s of shared) s.variants.push(v.name);
    infos.push({
      name: v.name,
      description: `LoRA rank ${v.rank}; the key ${PLANTED_SECRET} must never show`,
      axes: { 'train.lora.rank': v.rank },
      spec: {
        name: specName,
        seed: 7,
        data: { categories: ['Bacterial Infections'], test_fraction: 0.25, train_size: 'all' },
        llm: {
          provider: 'local',
          api_key_env: 'TEST_SERVICE_TOKEN',
          api_key: PLANTED_SECRET,
          max_output_tokens: 256,
        },
        train: {
          method: 'lora',
          lora: { rank: v.rank, alpha: v.rank * 2, dropout: 0.05 },
          epochs: 1,
        },
      },
      nodeKeys: [...shared.map((s) => s.key), train.key, evaluate.key],
    });
  }
  const outputs: Fixture['outputs'] = new Map();
  const out = async (
    id: string,
    files: Record<string, string>,
    metrics: Record<string, number>,
    artifacts: string[],
  ) => {
    const dir = join(root, 'store-outputs', id);
    for (const [name, text] of Object.entries(files)) {
      await mkdir(join(dir, name, '..'), { recursive: true });
      await writeFile(join(dir, name), text);
    }
    outputs.set(id, { outputDir: dir, metrics, artifacts });
  };
  await out(
    'curate',
    { 'records.jsonl': '{"id":1}\n{"id":2}\n{"id":3}\n{"id":4}\n' },
    { records: 4 },
    ['records.jsonl'],
  );
  await out(
    'annotate',
    { 'annotations.jsonl': '{"id":1}\n' },
    { input_tokens: 1200, output_tokens: 300, cost_usd: 0.0125 },
    ['annotations.jsonl'],
  );
  await out(
    'split',
    { 'train.jsonl': '{"q":"a"}\n{"q":"b"}\n{"q":"c"}\n', 'test.jsonl': '{"q":"t"}\n' },
    { train_rows: 3, test_rows: 1 },
    [],
  );
  await out('subset', { 'train.jsonl': '{"q":"a"}\n{"q":"b"}\n' }, { rows: 2 }, []);
  for (const v of variants) {
    await out(
      `train-${v.name}`,
      {
        'adapter/adapter_config.json': `{"r": ${v.rank}}\n`,
        'adapter/adapter_model.safetensors': 'weights',
      },
      { final_loss: 0.5 },
      ['adapter'],
    );
    await out(
      `evaluate-${v.name}`,
      {
        // A stage output that leaked the key: tracking must cut it out of the upload.
        'predictions.jsonl': `{"answer":"ok","debug":"${PLANTED_SECRET}"}\n`,
        'metrics.json': `{"bleu": ${0.1 * v.rank}}\n`,
      },
      { bleu: 0.1 * v.rank, rougeL: 0.2 + v.rank / 100 },
      ['predictions.jsonl', 'metrics.json'],
    );
  }
  return {
    sweep: {
      specName,
      specPath,
      sweepId: `${specName}.yaml#${specName}`,
      variants: infos,
      nodes,
      storeDir: join(root, 'store'),
    },
    outputs,
    lossAt: (variant, step) =>
      Number((2 / (step + 1) + variants.findIndex((v) => v.name === variant) / 10).toFixed(6)),
  };
}

export interface DriveOptions {
  /** Nodes reported as cached instead of run. */
  cached?: (node: NodeInfo) => boolean;
  /** Called after a variant's first `half` training steps were reported. */
  midTraining?: (variant: string) => Promise<void>;
  status?: 'finished' | 'failed' | 'killed';
  /** Text facts a node's summary carries (StageSummary.tags). */
  tags?: (node: NodeInfo) => Record<string, string> | undefined;
}

/** Plays the sweep through the hooks in topological order, as the scheduler does. */
export async function driveSweep(
  observer: RunObserver,
  fixture: Fixture,
  options: DriveOptions = {},
): Promise<void> {
  const { sweep } = fixture;
  await observer.sweepStarted?.(sweep);
  for (const node of sweep.nodes) {
    const produced = fixture.outputs.get(node.id);
    if (!produced) throw new Error(`no output for ${node.id}`);
    const cached = options.cached?.(node) ?? false;
    await observer.nodeStarted?.(node);
    if (!cached && node.kind === 'train') {
      const variant = node.variants[0] as string;
      const rank = Number(sweep.variants.find((v) => v.name === variant)?.axes['train.lora.rank']);
      const steps = trainSteps(rank);
      for (let step = 0; step < steps; step += 1) {
        observer.nodeReport?.(node, {
          type: 'metric',
          name: 'loss',
          value: fixture.lossAt(variant, step),
          step,
        });
        observer.nodeReport?.(node, {
          type: 'metric',
          name: 'learning_rate',
          value: 1e-4 * (1 - step / steps),
          step,
        });
        observer.nodeReport?.(node, { type: 'progress', done: step + 1, total: steps });
        if (step === Math.floor(steps / 2)) await options.midTraining?.(variant);
      }
    }
    const outcome: NodeOutcome = {
      state: cached ? 'cached' : 'done',
      durationMs: cached ? 1 : 1500,
      outputDir: produced.outputDir,
      summary: {
        metrics: produced.metrics,
        artifacts: produced.artifacts,
        ...(options.tags?.(node) ? { tags: options.tags(node) } : {}),
      },
    };
    await observer.nodeFinished?.(node, outcome);
  }
  await observer.sweepFinished?.(sweep, options.status ?? 'finished');
}

export function trainSteps(rank: number): number {
  return rank === 4 ? 12 : 8;
}
