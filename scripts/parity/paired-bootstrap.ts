/**
 * Parity of our paired tests for BLEU with sacreBLEU's (`--paired-bs`, `--paired-ar`): the same
 * seeded synthetic systems scored by both, figures printed side by side with the Monte Carlo
 * tolerance each must meet (the two use different random draws, so they agree within
 * sampling error, not to the digit). Exits 1 when a figure is outside its tolerance.
 * Run: node scripts/parity/paired-bootstrap.ts
 *
 * Our side uses sacreBLEU's BLEU (sacrebleu.ts: per-sentence statistics summed per resample),
 * the shared resampling of stages/evaluate/bootstrap.ts, sacreBLEU's p-value formula for the
 * bootstrap (`pairedBootstrapPValue`) and our approximate randomisation (what Table 1 uses).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../runner/project-root.ts';
import {
  type AdditiveMetric,
  fullScore,
  type QuestionRows,
  resampledScores,
  resampleIndices,
} from '../../stages/evaluate/bootstrap.ts';
import { computeSacreBleu, sacreBleuFromStatistics } from '../../stages/evaluate/sacrebleu.ts';
import {
  approximateRandomisation,
  pairedBootstrapPValue,
} from '../../stages/evaluate/significance.ts';
import { seededRandom } from '../../stages/shared/seeded-random.ts';
import { parityPython } from './parity-python.ts';

const SENTENCES = 500;
const RESAMPLES = 1000;
const TRIALS = 10_000;
const WORDS =
  'the a lesion plaque crusted honey coloured impetigo red warm spreading erythema cellulitis of on with and skin leg arm face pustule follicle abscess swelling tender border scale fever child adult shows suggests typical'.split(
    ' ',
  );

const random = seededRandom(2026, 'paired-bootstrap-parity');
const word = () => WORDS[random.below(WORDS.length)] as string;
const references = Array.from({ length: SENTENCES }, () =>
  Array.from({ length: 8 + random.below(14) }, word).join(' '),
);
/** Keeps each reference word with probability `keep`, else another word; sometimes drops one. */
const system = (keep: number) =>
  references.map((reference) =>
    reference
      .split(' ')
      .filter(() => random.next() > 0.05)
      .map((w) => (random.next() < keep ? w : word()))
      .join(' '),
  );
const systems: [string, string[]][] = [
  ['baseline', system(0.5)],
  ['same-quality', system(0.5)],
  ['slightly-better', system(0.53)],
  ['better', system(0.58)],
];

// sacreBLEU's side.
const python = await parityPython((line) => console.error(line));
const dir = mkdtempSync(join(tmpdir(), 'dermatune-paired-parity-'));
const input = join(dir, 'systems.json');
writeFileSync(input, JSON.stringify({ references, systems }));
const run = spawnSync(
  python,
  [join(projectRoot(), 'scripts', 'parity', 'paired_bootstrap.py'), input],
  {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  },
);
rmSync(dir, { recursive: true, force: true });
if (run.status !== 0) {
  console.error(run.stderr);
  process.exit(1);
}
type SacreResult = { system: string; score: number; p: number | null; mean: number; ci: number };
const sacre = JSON.parse(run.stdout) as { bs: SacreResult[]; ar: SacreResult[] };

// Ours.
const WIDTH = 10;
const sacreBleuMetric: AdditiveMetric = {
  width: WIDTH,
  score: (s) =>
    sacreBleuFromStatistics(
      Array.from(s.subarray(0, 4)),
      Array.from(s.subarray(4, 8)),
      s[8] as number,
      s[9] as number,
    ).score,
};
const rowsOf = (hypotheses: readonly string[]): QuestionRows => {
  const rows = new Float64Array(SENTENCES * WIDTH);
  hypotheses.forEach((h, i) => {
    const s = computeSacreBleu([h], [references[i] as string]);
    rows.set([...s.counts, ...s.totals, s.sys_len, s.ref_len], i * WIDTH);
  });
  return { metric: sacreBleuMetric, n: SENTENCES, rows };
};
/** sacreBLEU's `estimate_ci`: the mean of the resamples, half the span of the 1/40 ranks. */
const estimateCi = (scores: Float64Array) => {
  const sorted = Float64Array.from(scores).sort();
  const lower = Math.floor(sorted.length / 40);
  const upper = sorted.length - lower - 1;
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { mean, ci: 0.5 * ((sorted[upper] as number) - (sorted[lower] as number)) };
};

const indices = resampleIndices(SENTENCES, RESAMPLES, 12345);
const base = rowsOf(systems[0]?.[1] ?? []);
const baseScores = resampledScores(base, indices);
const baseScore = fullScore(base);
let failures = 0;
const lines: string[] = [];
const check = (label: string, ours: number, theirs: number, tolerance: number) => {
  const ok = Math.abs(ours - theirs) <= tolerance;
  if (!ok) failures++;
  lines.push(
    `  ${label.padEnd(22)} ours ${ours.toFixed(4).padStart(9)}  sacreBLEU ${theirs.toFixed(4).padStart(9)}  |diff| ${Math.abs(ours - theirs).toFixed(4)} <= ${tolerance.toFixed(4)}  ${ok ? 'ok' : 'OUTSIDE'}`,
  );
};
for (const [index, [name, hypotheses]] of systems.entries()) {
  const rows = rowsOf(hypotheses);
  const scores = resampledScores(rows, indices);
  const score = fullScore(rows);
  const bs = sacre.bs[index] as SacreResult;
  const ar = sacre.ar[index] as SacreResult;
  lines.push(`${name}:`);
  check('BLEU', score, bs.score, 1e-9);
  const ours = estimateCi(scores);
  // Two independent bootstrap means differ by about sqrt(2) * sd / sqrt(R); sd ~ ci / 1.96.
  check(
    'bootstrap mean',
    ours.mean,
    bs.mean,
    (3 * Math.SQRT2 * (bs.ci / 1.96)) / Math.sqrt(RESAMPLES),
  );
  check('95% CI half-width', ours.ci, bs.ci, 0.15 * bs.ci);
  if (index === 0) continue;
  const diffs = scores.map((s, r) => s - (baseScores[r] as number));
  const pBs = pairedBootstrapPValue(diffs, score - baseScore);
  const pAr = approximateRandomisation(rows, base, { trials: TRIALS, seed: 12345 });
  // Two binomial estimates of one p: their difference has sd sqrt(2 p (1 - p) / R).
  const mc = (p: number, n: number) => 3 * Math.sqrt((2 * Math.max(p, 0.01) * (1 - p)) / n) + 1 / n;
  check('paired-bs p-value', pBs, bs.p ?? Number.NaN, mc(bs.p ?? 0, RESAMPLES));
  check('paired-ar p-value', pAr, ar.p ?? Number.NaN, mc(ar.p ?? 0, TRIALS));
}
console.log(
  `Paired tests for BLEU, ours vs sacreBLEU (${SENTENCES} sentences, ${RESAMPLES} bootstrap resamples, ${TRIALS} randomisation trials)`,
);
console.log(lines.join('\n'));
console.log(failures === 0 ? 'all within tolerance' : `${failures} figure(s) outside tolerance`);
process.exit(failures === 0 ? 0 : 1);
