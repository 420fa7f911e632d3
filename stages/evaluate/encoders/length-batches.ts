/**
 * Groups sequences for the encoder: longest first, so each batch pads to a similar length,
 * and cut by a token budget as well as a count, so one long text does not pad a whole batch
 * of short ones to its length (attention cost grows with the padded length).
 * Returns the indices of `lengths`, batch by batch.
 */
export function lengthBatches(
  lengths: readonly number[],
  maxItems: number,
  tokenBudget: number,
): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => (lengths[b] ?? 0) - (lengths[a] ?? 0));
  const batches: number[][] = [];
  let current: number[] = [];
  let padded = 0;
  for (const index of order) {
    const length = lengths[index] ?? 0;
    // Sorted longest first, so the batch's first member sets its padded length.
    const width = current.length === 0 ? length : padded;
    if (
      current.length > 0 &&
      (current.length >= maxItems || (current.length + 1) * width > tokenBudget)
    ) {
      batches.push(current);
      current = [];
    }
    if (current.length === 0) padded = length;
    current.push(index);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
