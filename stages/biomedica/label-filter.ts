import type { BiomedicaMetadata } from './biomedica-sample.ts';

/** The concept labels a figure must carry; BIOMEDICA writes them in varying case. */
export interface LabelFilter {
  primary_label: string;
  secondary_label: string;
}

export const DEFAULT_LABEL_FILTER: LabelFilter = {
  primary_label: 'Clinical Imaging',
  secondary_label: 'Skin Lesion',
};

export type LabelVerdict =
  | { keep: true; primary: string[]; secondary: string[] }
  | {
      keep: false;
      reason: 'missing-labels' | 'primary-label-mismatch' | 'secondary-label-mismatch';
    };

/**
 * Keeps a figure when its primary labels contain the wanted primary label and its secondary
 * labels the wanted secondary one, compared case-insensitively and ignoring surrounding space.
 * A figure with several labels (a clinical photo with a micrograph panel) is kept when the wanted
 * ones are among them, as BIOMEDICA's own subset queries do.
 */
export function judgeLabels(metadata: BiomedicaMetadata, filter: LabelFilter): LabelVerdict {
  const primary = labelList(metadata.image_primary_label);
  const secondary = labelList(metadata.image_secondary_label);
  if (primary === undefined || secondary === undefined)
    return { keep: false, reason: 'missing-labels' };
  if (!primary.some((label) => sameLabel(label, filter.primary_label))) {
    return { keep: false, reason: 'primary-label-mismatch' };
  }
  if (!secondary.some((label) => sameLabel(label, filter.secondary_label))) {
    return { keep: false, reason: 'secondary-label-mismatch' };
  }
  return { keep: true, primary, secondary };
}

function labelList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return undefined;
}

function sameLabel(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}
