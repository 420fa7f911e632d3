import { type SeededRandom, seededRandom } from '../stages/split/seeded-random.ts';

/**
 * The random kill times of a crash test, from a seed that is printed, so a failing trial can be
 * replayed exactly: `DERMATUNE_CRASH_SEED=<seed> npx vitest run <file>`. Without the variable a
 * fresh seed is drawn, so every run of the suite tries new moments.
 */
export function crashRandom(test: string): SeededRandom {
  const seed = process.env.DERMATUNE_CRASH_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
  process.stderr.write(`[${test}] kill times from DERMATUNE_CRASH_SEED=${seed}\n`);
  return seededRandom(seed, test);
}
