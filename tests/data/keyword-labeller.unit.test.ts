import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { labelByKeywords } from '../../stages/annotate-keywords/keyword-labeller.ts';
import type { CuratedRecord } from '../../stages/curate/curated-record.ts';

function record(caption: string, mentions: string[] = [], title = ''): CuratedRecord {
  return {
    key: 'k',
    image: 'images/k.jpg',
    caption,
    mentions,
    image_size: null,
    license: null,
    title,
    citation: null,
    journal: null,
    article_id: 'PMC1',
    figure_id: 'F1',
    primary_labels: [],
    secondary_labels: [],
    shard: 's',
  };
}

describe('the keyword labeller (offline stand-in for the LLM labeller)', () => {
  it('labels by the condition terms the figure text names, most hits winning', () => {
    expect(labelByKeywords(record('Honey-coloured crusts of impetigo on the chin.'))).toMatchObject(
      {
        category_number: 21,
        category_name: 'Bacterial Infections',
        reasoning: 'named: impetigo (caption)',
      },
    );
    expect(
      labelByKeywords(record('Silvery plaques of chronic plaque psoriasis.')).category_number,
    ).toBe(13);
    expect(
      labelByKeywords(record('Annular scaly plaque; tinea corporis confirmed on KOH.'))
        .category_number,
    ).toBe(11);
    // Two bacterial terms outweigh one eczema term.
    expect(
      labelByKeywords(record('Cellulitis over eczema', ['Streptococcal cellulitis of the shin.']))
        .category_number,
    ).toBe(21);
  });

  it('falls back to category 29 when no term is named', () => {
    expect(labelByKeywords(record('A chest radiograph.'))).toMatchObject({
      category_number: 29,
      reasoning: 'no condition term found in the caption, mentions or title',
    });
  });

  it('is documented as a stand-in in the demo spec that uses it', async () => {
    const demo = await readFile('experiments/demo.yaml', 'utf8');
    expect(demo).toContain('labeller: keywords');
    expect(demo).toMatch(/stand-in/);
  });
});
