import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeInfo } from '../run-events.ts';
import type { StageDataset } from '../stage-kind.ts';
import type { MlflowDatasetInput } from './mlflow-types.ts';

/**
 * The dataset inputs of a variant's run (MLflow's log-inputs): which output files of which node
 * kinds are the data a variant trained and was tested on, each named by its content digest so
 * that two runs on the same data show the same dataset.
 */
export type DatasetFile = StageDataset;

export async function datasetInputs(request: {
  datasets: Readonly<Record<string, readonly DatasetFile[]>>;
  specName: string;
  node: NodeInfo;
  /** The kinds of every node of the variant. */
  variantKinds: readonly string[];
  outputDir: string;
}): Promise<MlflowDatasetInput[]> {
  const { datasets, node, outputDir } = request;
  // A kind's declaration says when one of its files stands in for another kind's.
  const files = (datasets[node.kind] ?? []).filter(
    (dataset) =>
      dataset.unlessVariantHas === undefined ||
      !request.variantKinds.includes(dataset.unlessVariantHas),
  );
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
