/**
 * Caption leak: figure-caption artefacts that fine-tuning on captions teaches a model to
 * repeat (the paper names photographer credits): credit and permission lines, figure numbers
 * and panel labels. A pattern per kind, so the report can say which kind leaks.
 *
 * Known limits: a parenthesised single letter also matches an enumeration such as "(a) ... (b)",
 * and "Figure 2" in an answer that really cites a figure counts too; both are rare in answers
 * to clinical questions and count as leaks here.
 */
export type CaptionLeakKind = 'credit' | 'figure-label' | 'panel-label' | 'annotation-marker';

export const CAPTION_LEAK_PATTERNS: Readonly<Record<CaptionLeakKind, RegExp>> = {
  credit:
    /\b(?:courtesy of|(?:photo|photograph|image|picture)s? (?:by|courtesy|credit)|(?:photo|image) credit|(?:reproduced|reprinted|adapted|used) (?:with|by) (?:kind )?permission|with permission (?:of|from)|all rights reserved|copyright)\b|©/i,
  'figure-label': /\b(?:fig(?:ure)?s?\.?\s*\d+[a-z]?|supplementary fig(?:ure)?)\b/i,
  'panel-label':
    /\bpanels?\s+\(?[a-h]\b|\([a-h](?:\s*[-–,]\s*[a-h])?\)|\b(?:left|right|upper|lower|top|bottom) panel\b|\binset\b/i,
  'annotation-marker':
    /\b(?:scale bar|arrowheads?|(?:black|white|red|yellow) arrows?|arrows? (?:indicate|show|point|mark)s?)\b|\basterisks? (?:indicate|mark|show)s?\b/i,
};

export interface CaptionLeakStats {
  /** Share of answers with at least one artefact of any kind. */
  rate: number;
  /** Share of answers with each kind. */
  by_kind: Record<CaptionLeakKind, number>;
}

/** The kinds of artefact one answer carries (empty when clean). */
export function captionLeaks(answer: string): CaptionLeakKind[] {
  return (Object.keys(CAPTION_LEAK_PATTERNS) as CaptionLeakKind[]).filter((kind) =>
    CAPTION_LEAK_PATTERNS[kind].test(answer),
  );
}

export function captionLeakStats(answers: readonly string[]): CaptionLeakStats {
  const byKind: Record<CaptionLeakKind, number> = {
    credit: 0,
    'figure-label': 0,
    'panel-label': 0,
    'annotation-marker': 0,
  };
  let leaking = 0;
  for (const answer of answers) {
    const kinds = captionLeaks(answer);
    if (kinds.length > 0) leaking++;
    for (const kind of kinds) byKind[kind]++;
  }
  const n = answers.length;
  for (const kind of Object.keys(byKind) as CaptionLeakKind[]) {
    byKind[kind] = n === 0 ? 0 : byKind[kind] / n;
  }
  return { rate: n === 0 ? 0 : leaking / n, by_kind: byKind };
}
