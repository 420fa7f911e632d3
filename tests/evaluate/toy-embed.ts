import { createHash } from 'node:crypto';
import type { EmbedFunction } from '../../stages/evaluate/semantic-accuracy.ts';

/**
 * A deterministic stand-in sentence encoder for tests: a bag of lowercased words, each hashed
 * to one of 256 dimensions. Texts sharing words are similar, texts sharing none are orthogonal,
 * so expected predictions can be worked out by hand.
 */
export const toyEmbed: EmbedFunction = (texts) =>
  texts.map((text) => {
    const vector = new Float32Array(256);
    for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
      const dim = createHash('sha256').update(word).digest().readUInt32LE(0) % 256;
      vector[dim] = (vector[dim] ?? 0) + 1;
    }
    return vector;
  });
