import { copyFile, link, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fail, ok, type Result } from '../../runner/result.ts';
import { ANNOTATE_OUTPUT } from '../annotate/contract.ts';
import { CURATE_OUTPUT } from '../curate/contract.ts';
import type { CuratedRecord } from '../curate/curated-record.ts';
import { findCategory, resolveCategories, type SkinCategory } from '../shared/categories.ts';
import { readJsonlLines, writeJsonl } from '../shared/jsonl-file.ts';
import { SELECT_OUTPUT } from './contract.ts';

/** A row of annotate's `annotations.jsonl`. */
export interface AnnotationRow {
  key: string;
  category_number: number;
  category_name: string;
  reasoning: string;
  /** The LLM's raw answer, kept when it could not be read. */
  raw?: unknown;
}

/** A curated record with its category: a row of select's `records.jsonl`. */
export interface SelectedRecord extends CuratedRecord {
  category_number: number;
  category_name: string;
  category_reasoning: string;
}

/** `unknown-label`: a source's own label (`data.labeller: from_source`) that names no category. */
export type SelectDropReason =
  | 'other-category'
  | 'not-annotated'
  | 'malformed-annotation'
  | 'unknown-label';

export interface SelectStats {
  records: number;
  selected: number;
  /** The configured categories, resolved to `number name`. */
  categories: string[];
  dropped: Partial<Record<SelectDropReason, number>>;
  /** How the annotator labelled all records: the category distribution of the curated set. */
  by_category: Record<string, number>;
  articles: number;
}

export interface SelectFailure {
  reason: 'unknown-category' | 'missing-file' | 'malformed-records';
  message: string;
}

/**
 * Keeps the records whose annotation falls in one of the wanted categories, in record order.
 * An annotation is matched by its number (the name is the LLM's echo and may be misspelt);
 * a record without an annotation, or with an unreadable one, is dropped and counted.
 */
export function selectRecords(
  records: readonly CuratedRecord[],
  annotations: readonly unknown[],
  wanted: readonly SkinCategory[],
): { selected: SelectedRecord[]; stats: SelectStats } {
  const byKey = new Map<string, AnnotationRow | 'malformed'>();
  for (const row of annotations) {
    const key = (row as { key?: unknown } | null)?.key;
    if (typeof key !== 'string' || byKey.has(key)) continue;
    byKey.set(key, readAnnotation(row) ?? 'malformed');
  }
  const wantedNumbers = new Set(wanted.map((c) => c.number));
  const selected: SelectedRecord[] = [];
  const dropped: SelectStats['dropped'] = {};
  const byCategory: Record<string, number> = {};
  const drop = (reason: SelectDropReason) => {
    dropped[reason] = (dropped[reason] ?? 0) + 1;
  };
  for (const record of records) {
    const annotation = byKey.get(record.key);
    if (annotation === undefined) {
      drop('not-annotated');
      continue;
    }
    if (annotation === 'malformed') {
      drop('malformed-annotation');
      continue;
    }
    const label = `${annotation.category_number} ${annotation.category_name}`;
    byCategory[label] = (byCategory[label] ?? 0) + 1;
    if (!wantedNumbers.has(annotation.category_number)) {
      drop('other-category');
      continue;
    }
    selected.push({
      ...record,
      category_number: annotation.category_number,
      category_name: annotation.category_name,
      category_reasoning: annotation.reasoning,
    });
  }
  return {
    selected,
    stats: {
      records: records.length,
      selected: selected.length,
      categories: wanted.map((c) => `${c.number} ${c.name}`),
      dropped,
      by_category: byCategory,
      articles: new Set(selected.map((r) => r.article_id)).size,
    },
  };
}

/**
 * The stage's work on folders: reads curate's and annotate's outputs, writes `records.jsonl`
 * and links the selected images next to it, so the folder stands on its own. Without an
 * annotations folder (`data.labeller: from_source`) each record's own `label` is its category.
 */
export async function selectFromFolders(
  recordsDir: string,
  annotationsDir: string | undefined,
  outDir: string,
  categories: ReadonlyArray<string | number>,
): Promise<Result<SelectStats, SelectFailure>> {
  const wanted = resolveCategories(categories);
  if (!wanted.ok) return wanted;
  const recordLines = await readJsonlLines(join(recordsDir, CURATE_OUTPUT.records));
  if (!recordLines.ok) return fail({ reason: 'missing-file', message: recordLines.error.message });
  const bad = recordLines.value.find((l) => !isRecord(l.value));
  if (bad) {
    return fail({
      reason: 'malformed-records',
      message: `${join(recordsDir, CURATE_OUTPUT.records)}:${bad.line} is not a curated record`,
    });
  }
  const all = recordLines.value.map((l) => l.value as CuratedRecord);
  let records = all;
  let annotations: unknown[];
  let unknownLabels = 0;
  if (annotationsDir === undefined) {
    annotations = all.flatMap((record) => {
      const category = record.label === undefined ? undefined : findCategory(record.label);
      return category ? [{ ...labelAnnotation(record.key, category) }] : [];
    });
    // A label that names no category is the source's to fix; counted apart from the unlabelled.
    records = all.filter((r) => r.label === undefined || findCategory(r.label) !== undefined);
    unknownLabels = all.length - records.length;
  } else {
    const annotationLines = await readJsonlLines(join(annotationsDir, ANNOTATE_OUTPUT.annotations));
    if (!annotationLines.ok) {
      return fail({ reason: 'missing-file', message: annotationLines.error.message });
    }
    annotations = annotationLines.value.map((l) => l.value);
  }
  const { selected, stats } = selectRecords(records, annotations, wanted.value);
  if (unknownLabels > 0) {
    stats.records = all.length;
    stats.dropped['unknown-label'] = unknownLabels;
  }
  for (const record of selected) {
    await linkOrCopy(join(recordsDir, record.image), join(outDir, record.image));
  }
  await writeJsonl(join(outDir, SELECT_OUTPUT.records), selected);
  await writeFile(join(outDir, SELECT_OUTPUT.stats), `${JSON.stringify(stats, null, 2)}\n`);
  return ok(stats);
}

function labelAnnotation(key: string, category: SkinCategory): AnnotationRow {
  return {
    key,
    category_number: category.number,
    category_name: category.name,
    reasoning: 'the label the source gives',
  };
}

function readAnnotation(row: unknown): AnnotationRow | undefined {
  if (!row || typeof row !== 'object') return undefined;
  const r = row as Record<string, unknown>;
  const byNumber =
    typeof r.category_number === 'number' ? findCategory(r.category_number) : undefined;
  const byName = typeof r.category_name === 'string' ? findCategory(r.category_name) : undefined;
  const category = byNumber ?? byName;
  if (!category) return undefined;
  return {
    key: String(r.key),
    category_number: category.number,
    category_name: category.name,
    reasoning: typeof r.reasoning === 'string' ? r.reasoning : '',
  };
}

function isRecord(value: unknown): value is CuratedRecord {
  const r = value as Partial<CuratedRecord> | null;
  return (
    !!r &&
    typeof r.key === 'string' &&
    typeof r.image === 'string' &&
    typeof r.article_id === 'string'
  );
}

/** A hard link costs nothing; a copy is the fallback across file systems. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  try {
    await link(from, to);
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    await copyFile(from, to);
  }
}
