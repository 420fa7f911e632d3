import { canonicalJson, sha256Hex } from './canonical-json.ts';

/**
 * Everything that decides a stage's output. Its sha256 is the stage key; the record itself is
 * stored with the output so `dermatune why` can say which part changed.
 */
export interface StageKeyRecord {
  kind: string;
  version: number;
  /** The resolved params the stage reads (and only those). */
  params: unknown;
  /** Input name to the key of the stage that produces it. */
  inputs: Record<string, string>;
  /** Model ids and revisions, prompt template digests, worker code digests. */
  fingerprints: Record<string, string>;
}

/** A branded hex digest so a key is never confused with any other string. */
export type StageKey = string & { readonly __brand: 'StageKey' };

export function stageKey(record: StageKeyRecord): StageKey {
  return sha256Hex(canonicalJson(record)) as StageKey;
}

export function shortKey(key: string): string {
  return key.slice(0, 10);
}

/** Dotted paths at which two records differ, with before and after values, for `why`. */
export function diffRecords(
  before: StageKeyRecord,
  after: StageKeyRecord,
): { path: string; before: unknown; after: unknown }[] {
  const changes: { path: string; before: unknown; after: unknown }[] = [];
  walk(before, after, []);
  return changes;

  function walk(a: unknown, b: unknown, path: string[]) {
    const objects =
      typeof a === 'object' &&
      a !== null &&
      !Array.isArray(a) &&
      typeof b === 'object' &&
      b !== null &&
      !Array.isArray(b);
    if (objects) {
      const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
      for (const key of [...keys].sort()) {
        walk((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], [
          ...path,
          key,
        ]);
      }
    } else if (canonicalJson(a ?? null) !== canonicalJson(b ?? null)) {
      changes.push({ path: path.join('.'), before: a, after: b });
    }
  }
}
