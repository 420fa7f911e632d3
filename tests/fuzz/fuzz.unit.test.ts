import { describe, expect, it } from 'vitest';
import { fuzzShards, fuzzSpecs } from './fuzz-cases.ts';

/**
 * A bounded share of the fuzz cases in every `npm test`; `bench/fuzz.ts` runs the full
 * 10,000 and more. The seed is printed so a broken case can be replayed
 * (DERMATUNE_FUZZ_SEED=<seed>).
 */
const seed = Number(process.env.DERMATUNE_FUZZ_SEED ?? Date.now() % 1_000_000);

describe('fuzzing the spec loader and the shard reader', () => {
  it('answers every generated spec with a success or a refusal that says why', async () => {
    const counts = await fuzzSpecs(300, seed);
    process.stderr.write(
      `spec fuzz: seed ${seed}: ${JSON.stringify({ ...counts, broken: counts.broken.length })}\n`,
    );
    expect(counts.broken).toEqual([]);
    expect(counts.cases).toBe(300);
    // Both outcomes are exercised, so neither check is vacuous.
    expect(counts.succeeded).toBeGreaterThan(0);
    expect(counts.refused).toBeGreaterThan(0);
  }, 300_000);

  it('reads every mutated shard to a result or a failure with a message, writing only its output', async () => {
    const counts = await fuzzShards(80, seed);
    process.stderr.write(
      `shard fuzz: seed ${seed}: ${JSON.stringify({ ...counts, broken: counts.broken.length })}\n`,
    );
    expect(counts.broken).toEqual([]);
    expect(counts.cases).toBe(80);
    expect(counts.succeeded).toBeGreaterThan(0);
    expect(counts.refused).toBeGreaterThan(0);
  }, 300_000);
});
