import { fail, ok, type Result } from '../../runner/result.ts';

export interface CsvTable {
  header: string[];
  /** Each record with the 1-based line it starts on (line 1 is the header). */
  rows: { line: number; cells: string[] }[];
}

export interface CsvProblem {
  line: number;
  message: string;
}

/**
 * Parses CSV as RFC 4180 writes it (comma separated, fields optionally in double quotes, a
 * doubled quote inside quotes is one quote, line breaks inside quotes are data; CRLF or LF).
 * Written here rather than taken from a package: this is the whole of what a manifest needs,
 * and a broken quote must be reported with its line, which is where such files go wrong. A
 * record whose field count differs from the header's is refused too: it is almost always a
 * quote that was never closed, and reading on would shift every column after it.
 */
export function parseCsv(text: string): Result<CsvTable, CsvProblem> {
  const records: { line: number; cells: string[] }[] = [];
  let line = 1;
  let start = 1;
  let cells: string[] = [];
  let field = '';
  let quoted = false;
  let quoteLine = 0;
  let fieldStarted = false;
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (quoted) {
      if (c === '"') {
        if (body[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"') {
      if (fieldStarted) {
        return fail({
          line,
          message:
            'a double quote inside an unquoted field (quote the whole field and double the quote)',
        });
      }
      quoted = true;
      quoteLine = line;
      fieldStarted = true;
    } else if (c === ',') {
      cells.push(field);
      field = '';
      fieldStarted = false;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && body[i + 1] === '\n') i++;
      cells.push(field);
      if (!(cells.length === 1 && cells[0] === '')) records.push({ line: start, cells });
      cells = [];
      field = '';
      fieldStarted = false;
      line++;
      start = line;
    } else {
      if (fieldStarted && body[i - 1] === '"') {
        return fail({
          line,
          message: 'text after a closing double quote (a quote in a quoted field is written twice)',
        });
      }
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted)
    return fail({ line: quoteLine, message: 'a double quote opened here is never closed' });
  if (fieldStarted || cells.length > 0) {
    cells.push(field);
    records.push({ line: start, cells });
  }
  const [header, ...rows] = records;
  if (!header)
    return fail({ line: 1, message: 'the file is empty; the first line must name the columns' });
  for (const row of rows) {
    if (row.cells.length !== header.cells.length) {
      return fail({
        line: row.line,
        message: `${row.cells.length} fields where the header names ${header.cells.length} (a quote left open, or a comma in an unquoted field)`,
      });
    }
  }
  return ok({ header: header.cells.map((name) => name.trim()), rows });
}
