/**
 * The licence an exported adapter can carry, from the licences of the figures it was trained on
 * (curate keeps each article's licence string, BIOMEDICA's `article_license`). A model trained
 * on a figure inherits that figure's conditions, so the most restrictive one decides: any
 * non-commercial figure makes the model non-commercial, any share-alike one makes it share-alike.
 * A no-derivatives figure, or one whose licence is unknown, allows no open licence at all: the
 * card then says `other` and names why, for a person to decide.
 */
export interface TrainingLicence {
  /** A hub licence identifier (https://hf.co/docs/hub/repositories-licenses), or `other`. */
  id: string;
  /** Why, in a sentence the model card prints. */
  why: string;
  /** How many training figures carried each licence string as stored (`unknown` when absent). */
  counts: Record<string, number>;
}

export function trainingLicence(licences: readonly (string | null | undefined)[]): TrainingLicence {
  const counts: Record<string, number> = {};
  for (const licence of licences) {
    const name = typeof licence === 'string' && licence.trim() !== '' ? licence.trim() : 'unknown';
    counts[name] = (counts[name] ?? 0) + 1;
  }
  const names = Object.keys(counts);
  if (names.length === 0) {
    return {
      id: 'other',
      why: 'the training data names no figures, so no licence follows',
      counts,
    };
  }
  const terms = names.map(licenceTerms);
  const unusable = names.filter((_, i) => terms[i] === undefined || terms[i]?.noDerivatives);
  if (unusable.length > 0) {
    return {
      id: 'other',
      why: `some training figures carry no licence that allows a derived model (${unusable.join(', ')}); decide the licence before sharing`,
      counts,
    };
  }
  const known = terms.filter((t): t is Terms => t !== undefined);
  if (known.every((t) => t.publicDomain)) {
    return { id: 'cc0-1.0', why: 'every training figure is CC0', counts };
  }
  const nonCommercial = known.some((t) => t.nonCommercial);
  const shareAlike = known.some((t) => t.shareAlike);
  const id = `cc-by${nonCommercial ? '-nc' : ''}${shareAlike ? '-sa' : ''}-4.0`;
  return {
    id,
    why: `the most restrictive terms among the training figures' licences (${names.join(', ')})`,
    counts,
  };
}

interface Terms {
  publicDomain: boolean;
  nonCommercial: boolean;
  shareAlike: boolean;
  noDerivatives: boolean;
}

/** Creative Commons licences as PMC's open-access subset writes them (`CC BY-NC`, `CC0`, `cc-by-sa-4.0`). */
function licenceTerms(name: string): Terms | undefined {
  const text = name.toLowerCase().replace(/[\s_]+/g, '-');
  if (/^(cc0|cc-?zero|public-?domain)/.test(text)) {
    return { publicDomain: true, nonCommercial: false, shareAlike: false, noDerivatives: false };
  }
  if (!/^cc-?by\b/.test(text) && !text.startsWith('ccby')) return undefined;
  return {
    publicDomain: false,
    nonCommercial: /-nc\b/.test(text),
    shareAlike: /-sa\b/.test(text),
    noDerivatives: /-nd\b/.test(text),
  };
}
