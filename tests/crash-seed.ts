import { type SeededRandom, seededRandom } from '../stages/shared/seeded-random.ts';

/**
 * The random kill times of a crash test, from a seed that is printed, so a failing trial can be
 * replayed exactly: `DERMATUNE_CRASH_SEED=<seed> npx vitest run <file>`. Without the variable a
 * fresh seed is drawn, so every run of the suite tries new moments.
 */
export function crashRandom(test: string): SeededRandom {
  process.stderr.write(`[${test}] kill times from DERMATUNE_CRASH_SEED=${processSeed}\n`);
  return seededRandom(processSeed, test);
}

// One seed per test process, so the streams of one test (by purpose) replay from one number.
const processSeed = process.env.DERMATUNE_CRASH_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
