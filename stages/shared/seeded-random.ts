import { createHash } from 'node:crypto';

/**
 * A small seeded PRNG (sfc32, Chris Doty-Humphrey's "small fast counter", public domain), written
 * here rather than taken from a package because the sequence decides which article lands in the
 * test set: it must never change under us with a dependency bump. The 128-bit state comes from
 * SHA-256 of the seed and a purpose string, so the split and the subsets draw independent
 * streams from one spec seed (`seededRandom(7, 'split')` vs `seededRandom(7, 'subset')`).
 */
export interface SeededRandom {
  /** Uniform in [0, 1), 32 bits of resolution. */
  next(): number;
  /** Uniform integer in [0, n). */
  below(n: number): number;
}

export function seededRandom(seed: number | string, purpose: string): SeededRandom {
  const digest = createHash('sha256')
    .update(`${String(seed)}\u0000${purpose}`)
    .digest();
  let a = digest.readUInt32LE(0);
  let b = digest.readUInt32LE(4);
  let c = digest.readUInt32LE(8);
  let d = digest.readUInt32LE(12);
  const nextUint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // The first outputs of sfc32 still echo the seed words; the reference code discards 12.
  for (let i = 0; i < 12; i++) nextUint32();
  return {
    next: () => nextUint32() / 4294967296,
    below: (n) => {
      if (!Number.isInteger(n) || n <= 0)
        throw new RangeError(`below(${n}): need a positive integer`);
      return Math.floor((nextUint32() / 4294967296) * n);
    },
  };
}

/** Fisher-Yates on a copy: the input order must already be canonical (sorted) for determinism. */
export function seededShuffle<T>(items: readonly T[], random: SeededRandom): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.below(i + 1);
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}
