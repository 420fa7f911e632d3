import { closest } from 'fastest-levenshtein';
import { fail, ok, type Result } from '../../runner/result.ts';
import { COLUMN_ROLES, type ColumnRole } from '../shared/source-schema.ts';

/** `data.columns` as the spec gives it. */
export type ColumnMapping = Partial<Record<ColumnRole, string>>;

/** The column each role reads in one file; a role the file does not have is absent. */
export type ResolvedColumns = Partial<Record<ColumnRole, string>>;

/**
 * The names a role takes when the spec maps none, if the file has that column. Only image and
 * caption are asked of every record; a default that is not there is simply not used.
 */
export const DEFAULT_COLUMNS: Partial<Record<ColumnRole, string>> = {
  id: 'id',
  image: 'image',
  caption: 'caption',
  label: 'label',
  question: 'question',
  answer: 'answer',
};

export interface ColumnProblem {
  message: string;
  /** The setting to change: `data.columns.<role>`. */
  setting: string;
}

/**
 * Which column each role reads in a file with `available` columns. A column the spec names
 * that the file lacks is refused with the nearest real name ("did you mean"); an image column
 * must be found, by the mapping or by the default `imageDefault`.
 */
export function resolveColumns(
  mapping: ColumnMapping | undefined,
  available: readonly string[],
  file: string,
  imageDefault: string = DEFAULT_COLUMNS.image ?? 'image',
): Result<ResolvedColumns, ColumnProblem> {
  const resolved: ResolvedColumns = {};
  const listed = available.length > 0 ? available.join(', ') : 'none';
  for (const role of Object.keys(COLUMN_ROLES) as ColumnRole[]) {
    const named = mapping?.[role];
    if (named !== undefined) {
      if (!available.includes(named)) {
        const near =
          available.length > 0 ? `; did you mean "${closest(named, [...available])}"?` : '';
        return fail({
          message: `${file} has no column "${named}"${near} (its columns: ${listed})`,
          setting: `data.columns.${role}`,
        });
      }
      resolved[role] = named;
      continue;
    }
    const fallback = role === 'image' ? imageDefault : DEFAULT_COLUMNS[role];
    if (fallback !== undefined && available.includes(fallback)) resolved[role] = fallback;
  }
  if (resolved.image === undefined) {
    return fail({
      message: `${file} has no column "${imageDefault}" and none is mapped; name the image column (its columns: ${listed})`,
      setting: 'data.columns.image',
    });
  }
  return ok(resolved);
}
