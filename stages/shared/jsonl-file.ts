import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { fail, ok, type Result } from '../../runner/result.ts';

/**
 * JSON Lines, the format every data stage writes. The data stages' files are small (thousands of
 * rows), so reading loads a whole file; writing streams, because curation may scan many shards.
 */
export interface JsonlLine {
  /** 1-based, for messages that point at the offending line. */
  line: number;
  /** The parsed value, or undefined when the line is not JSON. */
  value: unknown;
  text: string;
}

export interface JsonlReadFailure {
  reason: 'missing-file';
  message: string;
}

/** Every non-blank line; a line that is not JSON comes back with `value: undefined`. */
export async function readJsonlLines(file: string): Promise<Result<JsonlLine[], JsonlReadFailure>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error: unknown) {
    return fail({
      reason: 'missing-file',
      message: `${file}: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
  const lines: JsonlLine[] = [];
  text.split('\n').forEach((raw, index) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = undefined;
    }
    lines.push({ line: index + 1, value, text: raw });
  });
  return ok(lines);
}

export async function writeJsonl(file: string, rows: Iterable<unknown>): Promise<void> {
  let text = '';
  for (const row of rows) text += `${JSON.stringify(row)}\n`;
  await writeFile(file, text);
}

/** Appends rows to a file as they come, respecting backpressure. */
export class JsonlWriter {
  readonly #stream: WriteStream;
  #count = 0;

  constructor(file: string) {
    this.#stream = createWriteStream(file, { flags: 'w' });
  }

  get count(): number {
    return this.#count;
  }

  async write(row: unknown): Promise<void> {
    this.#count++;
    if (!this.#stream.write(`${JSON.stringify(row)}\n`)) await once(this.#stream, 'drain');
  }

  async close(): Promise<void> {
    this.#stream.end();
    await once(this.#stream, 'finish');
  }
}
