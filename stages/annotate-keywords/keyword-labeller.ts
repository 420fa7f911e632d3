import type { CuratedRecord } from '../curate/curated-record.ts';
import { findCategory, type SkinCategory, UNSPECIFIED_CATEGORY } from '../shared/categories.ts';

/**
 * A transparent stand-in for the LLM labeller, for offline runs where no local model is good
 * enough to label: each category has the terms that name its conditions, and a figure gets the
 * category whose terms its caption, mentions and title name most often. The paper labels with
 * Gemini; this exists because the small GGUF model that runs here labels every figure "Acne".
 */
const TERMS: readonly (readonly [category: number, terms: readonly string[]])[] = [
  [
    21,
    [
      'impetigo',
      'cellulitis',
      'erysipelas',
      'folliculitis',
      'furuncle',
      'furunculosis',
      'carbuncle',
      'abscess',
      'ecthyma',
      'erythrasma',
      'necrotizing fasciitis',
      'necrotising fasciitis',
      'scalded skin',
      'ssss',
      'cutaneous tuberculosis',
      'lupus vulgaris',
      'scrofuloderma',
      'leprosy',
      'hansen',
      'erythema migrans',
      'lyme',
      'borrelia',
      'staphylococc',
      'streptococc',
      'mrsa',
      'bacterial',
      'corynebacterium',
      'mycobacter',
    ],
  ],
  [22, ['herpes', 'varicella', 'zoster', 'molluscum', 'viral exanthem', 'hand, foot and mouth']],
  [10, ['wart', 'verruca']],
  [11, ['tinea', 'dermatophyt', 'ringworm', 'trichophyton']],
  [12, ['candid']],
  [13, ['psoriasis', 'psoriatic']],
  [17, ['atopic dermatitis']],
  [18, ['eczema', 'eczematous']],
  [20, ['melanoma', 'carcinoma', 'malignan']],
  [19, ['nevus', 'naevus', 'seborrheic keratosis', 'lipoma', 'benign tumo']],
  [4, ['scabies', 'lice', 'pediculosis', 'parasit']],
  [1, ['acne']],
  [2, ['rosacea']],
  [7, ['urticaria', 'hives']],
  [16, ['vitiligo']],
  [15, ['alopecia areata']],
];

export interface KeywordLabel {
  key: string;
  category_number: number;
  category_name: string;
  reasoning: string;
}

export function labelByKeywords(record: CuratedRecord): KeywordLabel {
  const fields: [string, string][] = [
    ['caption', record.caption],
    ['mentions', record.mentions.join(' ')],
    ['title', record.title ?? ''],
  ];
  let best: { category: SkinCategory; hits: string[] } | undefined;
  for (const [number, terms] of TERMS) {
    const hits: string[] = [];
    for (const [field, text] of fields) {
      const lower = text.toLowerCase();
      for (const term of terms) if (lower.includes(term)) hits.push(`${term} (${field})`);
    }
    // Ties keep the earlier category in the list, which puts the specific ones first.
    if (hits.length > 0 && (!best || hits.length > best.hits.length)) {
      best = { category: findCategory(number) as SkinCategory, hits };
    }
  }
  if (!best) {
    return {
      key: record.key,
      category_number: UNSPECIFIED_CATEGORY.number,
      category_name: UNSPECIFIED_CATEGORY.name,
      reasoning: 'no condition term found in the caption, mentions or title',
    };
  }
  return {
    key: record.key,
    category_number: best.category.number,
    category_name: best.category.name,
    reasoning: `named: ${best.hits.slice(0, 6).join(', ')}`,
  };
}
