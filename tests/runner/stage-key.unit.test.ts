import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../runner/canonical-json.ts';
import { keyParams } from '../../runner/spec-schema.ts';
import { diffRecords, stageKey } from '../../runner/stage-key.ts';
import { curateKind } from '../../stages/curate/kind.ts';

describe('stage keys', () => {
  it('serialise records canonically: sorted keys, one spelling per number', () => {
    expect(canonicalJson({ b: 1, a: [1.0, -0, 1e3, 'x'], c: { z: null, y: true } })).toBe(
      '{"a":[1,0,1000,"x"],"b":1,"c":{"y":true,"z":null}}',
    );
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/not a JSON number/);
  });

  it('are pinned: an accidental change to key computation must fail here', () => {
    const record = {
      kind: 'train',
      version: 1,
      params: { train: { lora: { rank: 8, alpha: 32, dropout: 0.1 } }, seed: 42 },
      inputs: { train_set: 'a'.repeat(64) },
      fingerprints: { worker: 'sha256:0123' },
    };
    // Independently: sha256 of Python's json.dumps(record, sort_keys=True, separators=(',', ':')).
    expect(stageKey(record)).toBe(
      '8e0dd4a709ad48cef46bf2f05eb741070ec897df6982ce10ae1f87ab8b972cc6',
    );
    expect(
      stageKey({
        ...record,
        params: { seed: 42, train: { lora: { dropout: 0.1, alpha: 32, rank: 8 } } },
      }),
    ).toBe(stageKey(record));
    expect(stageKey({ ...record, version: 2 })).not.toBe(stageKey(record));
  });

  it('explain a change by the dotted paths that differ', () => {
    const before = {
      kind: 'k',
      version: 1,
      params: { a: { b: 1 } },
      inputs: { x: 'k1' },
      fingerprints: {},
    };
    const after = { ...before, params: { a: { b: 2 } }, fingerprints: { prompt: 'p' } };
    expect(diffRecords(before, after)).toEqual([
      { path: 'fingerprints.prompt', before: undefined, after: 'p' },
      { path: 'params.a.b', before: 1, after: 2 },
    ]);
  });

  it('leave out where local shards lie: a moved or re-cloned project keeps its curate key', () => {
    // The absolute paths a spec resolves to differ per checkout; the shards' content (and their
    // project-relative names) enter the key through curate's shards-sha256 fingerprint instead.
    const params = (root: string) => ({
      data: {
        source: {
          type: 'local',
          paths: [`${root}/tests/fixtures/biomedica/commercial/000000.tar`],
        },
        filter: { primary_label: 'Clinical Imaging', secondary_label: 'Skin Lesion' },
      },
    });
    const keyed = keyParams(params('/home/a/dermatune'), curateKind.paramsSchema);
    expect(keyed).toEqual({
      data: {
        source: { type: 'local' },
        filter: { primary_label: 'Clinical Imaging', secondary_label: 'Skin Lesion' },
      },
    });
    expect(keyParams(params('/srv/b/dermatune'), curateKind.paramsSchema)).toEqual(keyed);
    // A hub source keeps what names its data.
    const hub = {
      data: {
        source: { type: 'hub', repo: 'r/d', revision: 'abc', shards: ['s.tar'], downloads: 8 },
      },
    };
    expect(keyParams(hub, curateKind.paramsSchema)).toEqual({
      data: { source: { type: 'hub', repo: 'r/d', revision: 'abc', shards: ['s.tar'] } },
    });
  });
});
