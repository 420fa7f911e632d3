import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../runner/project-root.ts';
import { readBiomedicaSource } from '../../stages/biomedica/biomedica-source.ts';
import { figureMentions, stripXml } from '../../stages/biomedica/figure-mentions.ts';
import { DEFAULT_LABEL_FILTER } from '../../stages/biomedica/label-filter.ts';
import type { CuratedRecord } from '../../stages/curate/curated-record.ts';
import { curateSamples } from './curate-biomedica.ts';

let outDir: string;
beforeEach(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'dermatune-curate-'));
});
afterEach(async () => {
  await rm(outDir, { recursive: true, force: true });
});

function fixtureSamples() {
  return readBiomedicaSource(
    { type: 'local', paths: ['tests/fixtures/biomedica'] },
    { cacheDir: join(outDir, '..', 'unused-cache'), baseDir: projectRoot() },
  );
}

async function records(): Promise<CuratedRecord[]> {
  const text = await readFile(join(outDir, 'records.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as CuratedRecord);
}

describe('curating the BIOMEDICA fixture', () => {
  it('keeps the clinical skin-lesion figures and counts every drop by reason', async () => {
    const result = await curateSamples(fixtureSamples(), outDir, { filter: DEFAULT_LABEL_FILTER });
    expect(result).toEqual({
      ok: true,
      value: {
        read: 67,
        kept: 49,
        dropped: {
          'primary-label-mismatch': 10,
          'secondary-label-mismatch': 6,
          'missing-labels': 1,
          'missing-image': 1,
        },
        shards: 3,
        articles: 24,
        kept_without_mentions: 0,
        kept_with_credit_caption: 4,
        limited: false,
      },
    });
    const kept = await records();
    expect(kept).toHaveLength(49);
    // Every kept record has its image written next to it.
    const images = await readdir(join(outDir, 'images'));
    expect(images.sort()).toEqual(kept.map((r) => r.image.replace('images/', '')).sort());
    // Label case variants are kept; radiology, histology and charts are not.
    const keys = new Set(kept.map((r) => r.key));
    expect(keys.has('PMC0000105_F1')).toBe(true); // 'clinical imaging' / 'skin lesion'
    expect(keys.has('PMC0000105_F2')).toBe(true); // 'CLINICAL IMAGING' / 'SKIN LESION'
    expect(keys.has('PMC0000113_F2')).toBe(true); // several labels, the wanted ones among them
    expect(keys.has('PMC0000110_F2')).toBe(false); // CT
    expect(keys.has('PMC0000101_F3')).toBe(false); // histology
    const dropped = (await readFile(join(outDir, 'dropped.jsonl'), 'utf8')).trim().split('\n');
    expect(dropped).toHaveLength(18);
    expect(JSON.parse(dropped[0] as string)).toHaveProperty('reason');
  });

  it('keeps the fields the paper keeps, with the figure own mentions stripped of XML', async () => {
    await curateSamples(fixtureSamples(), outDir, { filter: DEFAULT_LABEL_FILTER });
    const record = (await records()).find((r) => r.key === 'PMC0000101_F1');
    expect(record).toEqual({
      key: 'PMC0000101_F1',
      image: 'images/PMC0000101_F1.jpg',
      caption:
        'Flaccid bullae and shallow erosions with a collarette of scale on the left cheek and chin of a four-year-old boy.',
      mentions: [
        'On examination, several flaccid bullae 0.5-2 cm in diameter were present on the face, some ruptured and leaving moist erosions with a thin collarette of scale (Figure 1).',
        'Cultures of the blister fluid grew Staphylococcus aureus sensitive to methicillin (Figure 1).',
      ],
      image_size: [112, 84],
      license: 'CC BY',
      title: '[SYNTHETIC] Bullous impetigo in a four-year-old child: a case report',
      citation: expect.stringContaining('Synthetic Journal of Pediatric Dermatology'),
      journal: 'Synthetic Journal of Pediatric Dermatology',
      article_id: 'PMC0000101',
      figure_id: 'F1',
      primary_labels: ['Clinical Imaging'],
      secondary_labels: ['skin lesion'],
      shard: 'tests/fixtures/biomedica/commercial/000000.tar',
    });
    // Panels of one figure share its mentions.
    const panels = (await records()).filter((r) => r.key.startsWith('PMC0000101_F2_'));
    expect(panels.map((r) => r.mentions)).toEqual([panels[0]?.mentions, panels[0]?.mentions]);
    expect(panels[0]?.mentions[0]).toContain('(Figure 2a)');
  });

  it('matches labels case-insensitively against a configured filter', async () => {
    const result = await curateSamples(fixtureSamples(), outDir, {
      filter: { primary_label: 'microscopy', secondary_label: 'LIGHT MICROSCOPY' },
    });
    expect(result.ok && result.value.kept).toBe(7);
  });

  it('stops after the limit', async () => {
    const result = await curateSamples(fixtureSamples(), outDir, {
      filter: DEFAULT_LABEL_FILTER,
      limit: 5,
    });
    expect(result.ok && [result.value.kept, result.value.limited]).toEqual([5, true]);
    expect(await records()).toHaveLength(5);
  });

  it('fails when the source fails, instead of storing a partial dataset', async () => {
    const broken = readBiomedicaSource(
      { type: 'local', paths: ['tests/fixtures/no-such-shards'] },
      { cacheDir: outDir, baseDir: projectRoot() },
    );
    const result = await curateSamples(broken, outDir, { filter: DEFAULT_LABEL_FILTER });
    expect(result.ok ? undefined : result.error.reason).toBe('no-shards');
  });
});

describe('figure mentions', () => {
  it('picks the figure own entry of image_context and decodes entities', () => {
    expect(
      figureMentions({
        image_cluster_id: 'f2',
        image_context: {
          F1: ['not this one'],
          F2: ['Erosions (<xref rid="F2">Fig. 2</xref>) &amp; <italic>S.&#160;aureus</italic>.'],
        },
      }),
    ).toEqual(['Erosions (Fig. 2) & S. aureus.']);
    expect(figureMentions({ image_cluster_id: 'F9', image_context: { F1: ['x'] } })).toEqual([]);
    expect(stripXml('<p>a\n  <b>b</b></p>')).toBe('a b');
  });
});
