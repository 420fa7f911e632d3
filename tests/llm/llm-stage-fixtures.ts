import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactStore } from '../../runner/artifact-store.ts';
import type { StageContext, StageInputOutput, StageReport } from '../../runner/stage-kind.ts';
import type { CuratedRecord } from '../../stages/curate/curated-record.ts';
import { writeJsonl } from '../../stages/shared/jsonl-file.ts';

/** Temporary folders of one test file, removed by `cleanup`. */
export class TempDirs {
  readonly #dirs: string[] = [];

  async make(prefix = 'dermatune-llm-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.#dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    for (const dir of this.#dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A stage context as the scheduler builds it, with the store's real file memo, so that a test
 * can run a stage, "crash" it, and run it again against the same memo.
 */
export async function stageContext<P>(options: {
  params: P;
  inputs: Record<string, string>;
  memoRoot: string;
  workDir: string;
  signal?: AbortSignal;
}): Promise<{ ctx: StageContext<P>; reports: StageReport[] }> {
  const outDir = await mkdtemp(join(options.workDir, 'out-'));
  const reports: StageReport[] = [];
  const inputs: Record<string, StageInputOutput> = {};
  for (const [name, dir] of Object.entries(options.inputs))
    inputs[name] = { dir, key: `key-${name}`, kind: name };
  return {
    ctx: {
      params: options.params,
      inputs,
      outDir,
      key: 'stage-key',
      cacheDir: join(options.workDir, 'cache'),
      signal: options.signal ?? new AbortController().signal,
      memo: new ArtifactStore(options.memoRoot).memo(),
      logFile: join(outDir, 'stage.log'),
      report: (event) => reports.push(event),
    },
    reports,
  };
}

const CONDITIONS = [
  'impetigo with honey-coloured crusts',
  'cellulitis with a spreading erythematous plaque',
  'erysipelas with a sharply demarcated raised border',
  'folliculitis with follicular pustules',
  'a furuncle with a central necrotic plug',
  'plaque psoriasis with silvery scale',
  'tinea corporis with an annular scaly edge',
  'a nodular melanoma',
];

/** `count` curated records over `count / 2` articles, with captions that name a condition. */
export function syntheticRecords(count: number): CuratedRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `PMC${String(1000 + Math.floor(i / 2))}_F${(i % 2) + 1}`,
    image: `images/PMC${String(1000 + Math.floor(i / 2))}_F${(i % 2) + 1}.jpg`,
    caption: `Figure ${i}: ${CONDITIONS[i % CONDITIONS.length]} on the forearm of patient ${i}.`,
    mentions: [`The lesion of patient ${i} is shown in Figure ${(i % 2) + 1}.`],
    image_size: [64, 48],
    license: 'CC BY',
    title: `Case report ${Math.floor(i / 2)} (synthetic)`,
    citation: null,
    journal: 'Synthetic Journal of Dermatology',
    article_id: `PMC${String(1000 + Math.floor(i / 2))}`,
    figure_id: `F${(i % 2) + 1}`,
    primary_labels: ['Clinical Imaging'],
    secondary_labels: ['skin lesion'],
    shard: 'synthetic-000000.tar',
  }));
}

export async function writeRecords(
  dir: string,
  records: readonly CuratedRecord[],
): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeJsonl(join(dir, 'records.jsonl'), records);
  return dir;
}

/** The patient number a prompt is about (captions above carry it). */
export function patientOf(prompt: string): number {
  return Number(/patient (\d+)/.exec(prompt)?.[1]);
}
