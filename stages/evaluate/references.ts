/** One reference string, or all the references of one prediction. */
export type ReferenceInput = string | readonly string[];

export function asReferenceList(reference: ReferenceInput): readonly string[] {
  const list = typeof reference === 'string' ? [reference] : reference;
  if (list.length === 0) throw new Error('a prediction needs at least one reference');
  return list;
}
