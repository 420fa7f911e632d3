/**
 * Expected failures travel as values; only bugs throw. A `Result` is either the value or a
 * failure that carries a kebab-case `reason` callers can switch on exhaustively.
 */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail<E>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}

/** Ends an exhaustive switch: the compiler proves it unreachable, and at run time it is a bug. */
export function unreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
