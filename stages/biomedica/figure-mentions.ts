import type { BiomedicaMetadata } from './biomedica-sample.ts';

/**
 * The figure's own inline mentions: the `image_context` entry of its `image_cluster_id`, as
 * plain text. BIOMEDICA keeps the JATS markup (`<xref>`, `<italic>`, ...) inside the paragraphs;
 * an LLM prompt and a training target want the words only.
 */
export function figureMentions(metadata: BiomedicaMetadata): string[] {
  const context = metadata.image_context;
  const figure = metadata.image_cluster_id;
  if (!context || typeof context !== 'object' || typeof figure !== 'string') return [];
  const entry =
    context[figure] ??
    Object.entries(context).find(([id]) => id.toLowerCase() === figure.toLowerCase())?.[1];
  const paragraphs = typeof entry === 'string' ? [entry] : Array.isArray(entry) ? entry : [];
  return paragraphs
    .filter((p): p is string => typeof p === 'string')
    .map(stripXml)
    .filter((p) => p.length > 0);
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};

/** Removes tags, decodes the XML entities JATS text uses, and collapses whitespace. */
export function stripXml(text: string): string {
  return text
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
      if (name.startsWith('#x') || name.startsWith('#X')) {
        return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
      }
      if (name.startsWith('#')) return String.fromCodePoint(Number(name.slice(1)));
      return ENTITIES[name.toLowerCase()] ?? whole;
    })
    .replace(/\s+/g, ' ')
    .trim();
}
