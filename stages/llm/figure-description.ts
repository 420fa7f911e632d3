import type { CuratedRecord } from '../curate/curated-record.ts';

/**
 * The metadata block the LLM stages show the model for one figure: caption, the article
 * paragraphs that cite it, title and journal (what the paper keeps). Long mention paragraphs
 * are cut: the caption and the first mentions carry the diagnosis, the rest costs tokens.
 * Its wording is part of every prompt, so a change here needs a version bump of annotate and
 * generate-qa.
 */
const MAX_MENTIONS = 4;
const MAX_MENTION_CHARS = 1000;

export type FigureMetadata = Pick<CuratedRecord, 'caption' | 'mentions' | 'title' | 'journal'>;

export function describeFigure(record: FigureMetadata): string {
  const lines = [`Caption: ${record.caption.trim() || '(none)'}`];
  const mentions = (record.mentions ?? []).slice(0, MAX_MENTIONS).map((m) => clip(m.trim()));
  if (mentions.length > 0) {
    lines.push('Article text citing the figure:');
    for (const mention of mentions) lines.push(`- ${mention}`);
  }
  if (record.title) lines.push(`Article title: ${record.title}`);
  if (record.journal) lines.push(`Journal: ${record.journal}`);
  return lines.join('\n');
}

function clip(text: string): string {
  return text.length > MAX_MENTION_CHARS ? `${text.slice(0, MAX_MENTION_CHARS)}…` : text;
}
