import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import { readBiomedicaSource } from '../../stages/biomedica/biomedica-source.ts';
import { DEFAULT_LABEL_FILTER } from '../../stages/biomedica/label-filter.ts';
import { runCapturedCli } from '../cli-capture.ts';
import { curateSamples } from '../data/curate-biomedica.ts';
import { testPipeline } from '../runner/test-pipeline.ts';

/**
 * Generated hostile input for the spec loader (random YAML structures and mutated spec text,
 * through the CLI) and the shard reader (mutated fixture tars, through curate). Every case must
 * end in a clean success or a refusal with a message (exit 2, or a failure value), within a
 * time bound, without throwing, and without writing anywhere but the store or the output folder.
 * Shared by the bounded test (tests/fuzz/fuzz.test.ts) and the full bench (bench/fuzz.ts).
 */
export interface FuzzCounts {
  cases: number;
  succeeded: number;
  refused: number;
  /** Each a description of the case that broke a promise; empty when all held. */
  broken: string[];
}

/** Far above any case's real cost; reaching it means a hang. */
export const CASE_TIME_BOUND_MS = 10_000;

/** mulberry32: small, fast and reproducible from the printed seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const pick = <T>(rng: Rng, list: readonly T[]): T => list[Math.floor(rng() * list.length)] as T;
const int = (rng: Rng, max: number) => Math.floor(rng() * max);

const HOSTILE_STRINGS = [
  '',
  'x',
  '\u001b]0;pwned\u0007',
  '\u001b[2J',
  '\u202egnp.exe',
  '../../etc/passwd',
  '/dev/zero',
  '{data.items}',
  '{nope}',
  'a'.repeat(3000),
  'naïve ünïcode ✓',
  '\u0000nul',
  'line\nbreak',
  '*alias',
  '&anchor',
  '!!js/function',
];
const NUMBERS = [
  0,
  1,
  -1,
  2,
  5,
  1000,
  1001,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  0.5,
  2 ** 53 + 1,
  Number.NaN,
];
const SETTING_PATHS = [
  'data.items',
  'model.factor',
  'model.delay_ms',
  'eval.title',
  'eval.fail',
  'seed',
  'pending',
  'bogus.path',
  'data.nope',
];

function scalar(rng: Rng): unknown {
  switch (int(rng, 6)) {
    case 0:
      return pick(rng, NUMBERS);
    case 1:
      return pick(rng, HOSTILE_STRINGS);
    case 2:
      return rng() < 0.5;
    case 3:
      return null;
    case 4:
      return int(rng, 20);
    default:
      return `s${int(rng, 1000)}`;
  }
}

function value(rng: Rng, depth: number): unknown {
  const roll = rng();
  if (depth > 3 || roll < 0.5) return scalar(rng);
  if (roll < 0.75) return Array.from({ length: int(rng, 5) }, () => value(rng, depth + 1));
  const out: Record<string, unknown> = {};
  for (let i = int(rng, 4); i > 0; i--)
    out[pick(rng, ['items', 'factor', 'x', 'name', 'fail'])] = value(rng, depth + 1);
  return out;
}

function randomSpec(rng: Rng, extendsPath: string | undefined): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  if (rng() < 0.9) spec.name = rng() < 0.8 ? `fuzz-${int(rng, 100)}` : scalar(rng);
  if (extendsPath !== undefined) spec.extends = extendsPath;
  if (rng() < 0.6) spec.data = rng() < 0.7 ? { items: pick(rng, NUMBERS) } : value(rng, 1);
  if (rng() < 0.5) spec.model = rng() < 0.7 ? { factor: scalar(rng), delay_ms: 0 } : value(rng, 1);
  if (rng() < 0.3) spec.eval = { title: pick(rng, HOSTILE_STRINGS), fail: rng() < 0.2 };
  if (rng() < 0.2) spec[pick(rng, ['junk', 'sweeps', 'Name', 'seed'])] = value(rng, 1);
  if (rng() < 0.6) {
    const sweep: Record<string, unknown> = {};
    for (let i = int(rng, 3) + 1; i > 0; i--) {
      sweep[pick(rng, SETTING_PATHS)] =
        rng() < 0.85 ? Array.from({ length: int(rng, 5) }, () => scalar(rng)) : scalar(rng);
    }
    if (rng() < 0.4)
      sweep.name = pick(rng, [
        '{model.factor}',
        'f{model.factor}-{data.items}',
        '{nope}',
        'same',
        '',
      ]);
    if (rng() < 0.3)
      sweep.include = [
        { name: pick(rng, HOSTILE_STRINGS), set: { [pick(rng, SETTING_PATHS)]: scalar(rng) } },
      ];
    if (rng() < 0.2) sweep.exclude = [{ [pick(rng, SETTING_PATHS)]: scalar(rng) }];
    spec.sweep = sweep;
  }
  return spec;
}

/** A spec that is mostly right, so the success path is fuzzed too. */
function mildSpec(rng: Rng): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    name: `mild-${int(rng, 100)}`,
    data: { items: 1 + int(rng, 20) },
  };
  if (rng() < 0.5) spec.model = { factor: pick(rng, [1, 2, 3.5, -2, 0]) };
  if (rng() < 0.6) {
    spec.sweep = {
      ...(rng() < 0.5 ? { name: 'f{model.factor}-{data.items}' } : {}),
      'model.factor': Array.from({ length: 1 + int(rng, 3) }, (_, k) => k + 1),
      ...(rng() < 0.4 ? { 'data.items': [1 + int(rng, 5), 6 + int(rng, 5)] } : {}),
    };
  }
  return spec;
}

const MUTATIONS = [
  ' 1e400',
  '&a ',
  '*a',
  '!!js/function ',
  '{',
  '}',
  '[',
  ']',
  ': ',
  '- ',
  "'",
  '"',
  '\t',
  '\u001b',
  '\n  ',
  '? ',
  '%YAML 1.1\n',
  '<<: *a\n',
  '\ufeff',
];

function mutateText(rng: Rng, text: string): string {
  let out = text;
  for (let i = int(rng, 6) + 1; i > 0; i--) {
    const at = int(rng, out.length + 1);
    switch (int(rng, 4)) {
      case 0:
        out = out.slice(0, at) + pick(rng, MUTATIONS) + out.slice(at);
        break;
      case 1:
        out = out.slice(0, at) + out.slice(at + int(rng, 8));
        break;
      case 2: {
        const lines = out.split('\n');
        const line = int(rng, lines.length);
        lines.splice(line, 0, lines[line] ?? '');
        out = lines.join('\n');
        break;
      }
      default:
        out = out.slice(0, at) + String.fromCharCode(int(rng, 0x3000)) + out.slice(at);
    }
  }
  return out;
}

/** A billion-laughs style document, or a deep nesting, now and then. */
function bombText(rng: Rng): string {
  if (rng() < 0.5) {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++)
      lines.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [*${String.fromCharCode(96 + i)}, *${String.fromCharCode(96 + i)}, *${String.fromCharCode(96 + i)}]`,
      );
    return `name: bomb\n${lines.join('\n')}\n`;
  }
  const depth = 200 + int(rng, 2000);
  return `name: deep\ndata: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
}

async function listTree(dir: string, skip: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .filter((p) => p !== skip && !p.startsWith(`${skip}/`))
    .sort();
}

async function withinBound<T>(work: Promise<T>): Promise<T | 'hang'> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'hang'>((resolve) => {
    timer = setTimeout(() => resolve('hang'), CASE_TIME_BOUND_MS);
  });
  try {
    return await Promise.race([work, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** What terminalSafe must never let through. */
function hasRawControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x0a && c !== 0x09) || c === 0x7f) return true;
    if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) return true;
  }
  return false;
}

export async function fuzzSpecs(count: number, seed: number): Promise<FuzzCounts> {
  const rng = seededRandom(seed);
  const dir = await mkdtemp(join(tmpdir(), 'dermatune-fuzz-spec-'));
  const fifo = join(dir, 'pipe.fifo');
  spawnSync('mkfifo', [fifo]);
  await mkdir(join(dir, 'folder'));
  await writeFile(join(dir, 'base.yaml'), 'name: base\ndata:\n  items: 3\n');
  const fixed = ['base.fifo', 'base.yaml', 'folder', 'pipe.fifo', 'spec.yaml'];
  const counts: FuzzCounts = { cases: 0, succeeded: 0, refused: 0, broken: [] };
  const valid = stringify(randomSpec(seededRandom(seed + 1), undefined));
  for (let i = 0; i < count; i++) {
    const extendsPath =
      rng() < 0.15
        ? pick(rng, ['base.yaml', 'pipe.fifo', '/dev/zero', 'folder', 'missing.yaml', 'spec.yaml'])
        : undefined;
    const roll = rng();
    const text =
      roll < 0.2
        ? stringify(mildSpec(rng))
        : roll < 0.55
          ? stringify(randomSpec(rng, extendsPath), {
              collectionStyle: rng() < 0.5 ? 'flow' : 'any',
            })
          : roll < 0.95
            ? mutateText(rng, valid)
            : bombText(rng);
    await writeFile(join(dir, 'spec.yaml'), text);
    const command = rng() < 0.9 ? 'validate' : rng() < 0.6 ? 'plan' : 'run';
    const extra =
      rng() < 0.1 ? ['--set', `${pick(rng, SETTING_PATHS)}=${String(scalar(rng))}`] : [];
    // A run really runs the stages: no sleeping test stage may pass for a hang.
    if (command === 'run') extra.push('--set', 'model.delay_ms=0');
    const label = `spec case ${i} (seed ${seed}, ${command})`;
    counts.cases++;
    try {
      const result = await withinBound(
        runCapturedCli(
          [command, 'spec.yaml', '--no-tracking', ...extra].filter(
            (a) => command === 'run' || a !== '--no-tracking',
          ),
          {
            pipeline: testPipeline,
            cwd: dir,
            env: { DERMATUNE_STORE: join(dir, 'store') },
          },
        ),
      );
      if (result === 'hang') {
        counts.broken.push(`${label}: no answer within ${CASE_TIME_BOUND_MS} ms`);
        continue;
      }
      const printed = result.stdout + result.stderr;
      if (hasRawControl(printed)) counts.broken.push(`${label}: printed a raw control character`);
      if (result.code === 0 || (command === 'run' && result.code === 1)) counts.succeeded++;
      else if (result.code === 2 && result.stderr.trim() !== '') counts.refused++;
      else
        counts.broken.push(
          `${label}: exit ${result.code} with stderr ${JSON.stringify(result.stderr.slice(0, 200))}`,
        );
    } catch (error) {
      counts.broken.push(
        `${label}: threw ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const tree = (await listTree(dir, 'store')).filter(
      (p) => !fixed.includes(p) && !p.startsWith('folder'),
    );
    if (tree.length > 0) {
      counts.broken.push(`${label}: wrote outside the store: ${tree.join(', ')}`);
      for (const path of tree) await rm(join(dir, path), { recursive: true, force: true });
    }
  }
  await rm(dir, { recursive: true, force: true });
  return counts;
}

const SHARD = join(process.cwd(), 'tests', 'fixtures', 'biomedica', 'commercial', '000001.tar');

function mutateTar(rng: Rng, original: Buffer): Buffer {
  let bytes = Buffer.from(original);
  for (let i = int(rng, 4) + 1; i > 0; i--) {
    if (bytes.length < 1024) break;
    const block = int(rng, Math.floor(bytes.length / 512) - 1) * 512;
    switch (int(rng, 8)) {
      case 0: // a bit flip anywhere
        {
          const at = int(rng, bytes.length);
          bytes[at] = (bytes[at] ?? 0) ^ (1 << int(rng, 8));
          break;
        }
      case 1: // truncated
        bytes = bytes.subarray(0, int(rng, bytes.length));
        break;
      case 2: // a hostile member name
        bytes.write(
          pick(rng, [
            '../../escape.jpg',
            '/etc/evil.json',
            'a/../../b.txt',
            'x\u001b[31m.txt',
            '....jpg',
          ]).padEnd(100, '\0'),
          block,
          'latin1',
        );
        break;
      case 3: // a hostile type: symlink, hard link, device, folder, FIFO
        bytes.write(pick(rng, ['1', '2', '3', '4', '5', '6', 'x']), block + 156, 'latin1');
        break;
      case 4: // a lying size field
        bytes.write(
          `${pick(rng, ['77777777777', '00000000000', '00000001000', '7777777'])}\0`,
          block + 124,
          'latin1',
        );
        break;
      case 5: // garbage appended
        bytes = Buffer.concat([
          bytes,
          Buffer.from(Array.from({ length: int(rng, 2000) }, () => int(rng, 256))),
        ]);
        break;
      case 6: // a run of zeros (an early end-of-archive)
        bytes.fill(0, block, Math.min(bytes.length, block + 1024));
        break;
      default: // a random block of noise
        for (let j = 0; j < 512 && block + j < bytes.length; j++) bytes[block + j] = int(rng, 256);
    }
  }
  return bytes;
}

const CURATE_FILES = new Set(['images', 'records.jsonl', 'dropped.jsonl', 'stats.json']);

export async function fuzzShards(count: number, seed: number): Promise<FuzzCounts> {
  const rng = seededRandom(seed);
  const original = await readFile(SHARD);
  const dir = await mkdtemp(join(tmpdir(), 'dermatune-fuzz-shard-'));
  const counts: FuzzCounts = { cases: 0, succeeded: 0, refused: 0, broken: [] };
  for (let i = 0; i < count; i++) {
    const label = `shard case ${i} (seed ${seed})`;
    const caseDir = join(dir, 'case');
    await rm(caseDir, { recursive: true, force: true });
    await mkdir(join(caseDir, 'out'), { recursive: true });
    const shard = join(caseDir, 'shard.tar');
    await writeFile(shard, mutateTar(rng, original));
    counts.cases++;
    try {
      const result = await withinBound(
        curateSamples(
          readBiomedicaSource(
            { type: 'local', paths: [shard] },
            { cacheDir: join(caseDir, 'cache'), baseDir: caseDir },
          ),
          join(caseDir, 'out'),
          { filter: DEFAULT_LABEL_FILTER },
        ),
      );
      if (result === 'hang')
        counts.broken.push(`${label}: no answer within ${CASE_TIME_BOUND_MS} ms`);
      else if (result.ok) counts.succeeded++;
      else if (result.error.message.trim() !== '' && result.error.reason) counts.refused++;
      else counts.broken.push(`${label}: a failure without a message`);
    } catch (error) {
      counts.broken.push(
        `${label}: threw ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const top = (await readdir(caseDir)).filter((n) => n !== 'shard.tar' && n !== 'out');
    const out = (await readdir(join(caseDir, 'out'))).filter((n) => !CURATE_FILES.has(n));
    const images = await readdir(join(caseDir, 'out', 'images')).catch(() => [] as string[]);
    const escaped = images.filter((n) => !/^[A-Za-z0-9._-]+$/.test(n));
    if (top.length + out.length + escaped.length > 0) {
      counts.broken.push(
        `${label}: wrote outside its output: ${[...top, ...out, ...escaped].join(', ')}`,
      );
    }
    if (await readdir(dir).then((n) => n.length !== 1)) {
      counts.broken.push(`${label}: wrote beside the case folder`);
    }
  }
  await rm(dir, { recursive: true, force: true });
  return counts;
}
