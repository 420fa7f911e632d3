import { fail, ok, type Result } from '../../runner/result.ts';

/**
 * The 29 skin-disease categories of the study, in the paper's order, with their numbers. The
 * annotator's answers and the `data.categories` setting refer to these by number or by name.
 * The paper spells category 4 "Parasytes"; that spelling is accepted as an alias.
 */
export interface SkinCategory {
  number: number;
  name: string;
}

export const SKIN_CATEGORIES: readonly SkinCategory[] = [
  { number: 1, name: 'Acne' },
  { number: 2, name: 'Rosacea' },
  { number: 3, name: 'Seborrheic Dermatitis' },
  { number: 4, name: 'Parasites' },
  { number: 5, name: 'Irritant Contact Dermatitis' },
  { number: 6, name: 'Allergic Contact Dermatitis' },
  { number: 7, name: 'Urticaria' },
  { number: 8, name: 'Angioedema' },
  { number: 9, name: 'Drug Reactions' },
  { number: 10, name: 'Warts (Verrucae)' },
  { number: 11, name: 'Dermatophyte (tinea) infections' },
  { number: 12, name: 'Candidiasis' },
  { number: 13, name: 'Psoriasis' },
  { number: 14, name: 'Lichen' },
  { number: 15, name: 'Alopecia Areata' },
  { number: 16, name: 'Vitiligo' },
  { number: 17, name: 'Atopic Dermatitis' },
  { number: 18, name: 'Eczema' },
  { number: 19, name: 'Benign Skin Tumors' },
  { number: 20, name: 'Malignant Skin Tumors' },
  { number: 21, name: 'Bacterial Infections' },
  { number: 22, name: 'Viral Infections' },
  { number: 23, name: 'Sexually Transmitted Diseases' },
  { number: 24, name: 'Autoimmune Skin Disease' },
  { number: 25, name: 'Genetic or Hereditary Skin Conditions' },
  { number: 26, name: 'Sweat Gland Disorders' },
  { number: 27, name: 'Injury-Related Skin Conditions' },
  { number: 28, name: 'Other Skin Diseases' },
  { number: 29, name: 'Unspecified or Cannot Be Determined' },
];

/** Where an annotation that cannot be read lands. */
export const UNSPECIFIED_CATEGORY = SKIN_CATEGORIES[28] as SkinCategory;

const ALIASES: Record<string, number> = { parasytes: 4 };

/** A category by number (1-29, or its decimal string) or by name, case- and space-insensitive. */
export function findCategory(reference: string | number): SkinCategory | undefined {
  if (typeof reference === 'number' || /^\s*\d+\s*$/.test(reference)) {
    const number = Number(reference);
    return SKIN_CATEGORIES.find((c) => c.number === number);
  }
  const wanted = normalise(reference);
  const alias = ALIASES[wanted];
  if (alias !== undefined) return SKIN_CATEGORIES[alias - 1];
  return SKIN_CATEGORIES.find((c) => normalise(c.name) === wanted);
}

export interface UnknownCategory {
  reason: 'unknown-category';
  message: string;
}

/** Resolves the `data.categories` setting; an unknown name is a spec error, not a silent empty set. */
export function resolveCategories(
  references: ReadonlyArray<string | number>,
): Result<SkinCategory[], UnknownCategory> {
  const resolved: SkinCategory[] = [];
  for (const reference of references) {
    const category = findCategory(reference);
    if (!category) {
      return fail({
        reason: 'unknown-category',
        message: `data.categories: ${JSON.stringify(reference)} is not one of the 29 categories (by number 1-29 or by name)`,
      });
    }
    if (!resolved.includes(category)) resolved.push(category);
  }
  return ok(resolved);
}

function normalise(name: string): string {
  return name.trim().toLowerCase().replace(/\s+/g, ' ');
}
