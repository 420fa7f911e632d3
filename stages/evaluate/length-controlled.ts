/**
 * The paper says its overlap metrics reward long answers. The length-controlled view scores
 * each answer cut to its reference's length in words, so a gain that survives the cut is not
 * length alone. Words are whitespace-separated, so the cut text stays a prefix of the answer
 * (punctuation and case kept) and every metric tokenizes it as it does the full answer.
 * Answers already as short as their reference are scored as they are.
 */
export function truncateToReference(prediction: string, reference: string): string {
  const limit = words(reference).length;
  const answer = words(prediction);
  return answer.length <= limit ? prediction : answer.slice(0, limit).join(' ');
}

/** Share of answers the cut shortened: how much of the view differs from the full one. */
export function truncatedShare(
  predictions: readonly string[],
  references: readonly string[],
): number {
  if (predictions.length === 0) return 0;
  let cut = 0;
  predictions.forEach((p, i) => {
    if (words(p).length > words(references[i] ?? '').length) cut++;
  });
  return cut / predictions.length;
}

function words(text: string): string[] {
  return text.split(/\s+/u).filter((w) => w.length > 0);
}
