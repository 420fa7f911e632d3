import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeInfo } from '../run-events.ts';
import type { MlflowDatasetInput } from './mlflow-types.ts';

/**
 * The dataset inputs of a variant's run (MLflow's log-inputs): which output files of which node
 * kinds are the data a variant trained and was tested on, each named by its content digest so
 * that two runs on the same data show the same dataset.
 */
export interface DatasetFile {
  file: string;
  context: 'train' | 'test' | 'validation';
}

/** The train set is the subset's; the test set is the split's. */
export const DEFAULT_DATASET_FILES: Readonly<Record<string, readonly DatasetFile[]>> = {
  subset: [{ file: 'train.jsonl', context: 'train' }],
  split: [{ file: 'test.jsonl', context: 'test' }],
};

export async function datasetInputs(request: {
  datasets: Readonly<Record<string, readonly DatasetFile[]>>;
  specName: string;
  node: NodeInfo;
  /** The kinds of every node of the variant. */
  variantKinds: readonly string[];
  outputDir: string;
}): Promise<MlflowDatasetInput[]> {
  const { datasets, node, outputDir } = request;
  const files = [...(datasets[node.kind] ?? [])];
  // Without a subset stage the split's train file is what training sees.
  const hasSubset = request.variantKinds.includes('subset');
  if (node.kind === 'split' && !hasSubset && datasets.subset) {
    files.push({ file: 'train.jsonl', context: 'train' });
  }
  const inputs: MlflowDatasetInput[] = [];
  for (const { file, context } of files) {
    const path = join(outputDir, file);
    if (!existsSync(path)) continue;
    const { digest, rows } = await digestJsonl(path);
    inputs.push({
      tags: [{ key: 'mlflow.data.context', value: context }],
      dataset: {
        name: `${request.specName}-${context}`,
        digest: digest.slice(0, 16),
        source_type: 'local',
        source: JSON.stringify({ uri: `file://${path}`, stage: node.kind, key: node.key }),
        profile: JSON.stringify({ num_rows: rows }),
      },
    });
  }
  return inputs;
}

/** The file's sha256 and its line count (a last line without a newline counts). */
async function digestJsonl(path: string): Promise<{ digest: string; rows: number }> {
  const hash = createHash('sha256');
  let rows = 0;
  let last = 10;
  for await (const chunk of createReadStream(path)) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    for (const byte of bytes) if (byte === 10) rows += 1;
    if (bytes.length > 0) last = bytes[bytes.length - 1] as number;
  }
  if (last !== 10) rows += 1;
  return { digest: hash.digest('hex'), rows };
}
