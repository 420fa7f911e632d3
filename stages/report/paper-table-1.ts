/**
 * Table 1 of Zhang et al., Diagnostics 2026, 16(4), 603, transcribed as data so
 * `dermatune table --compare-paper` can set our numbers beside the published ones.
 * Values are percentages as printed. The paper's setting: SmolVLM-Base with LoRA (q_proj,
 * v_proj, rank 8), tested on 765 QA; BERTScore with roberta-large layer 17, no rescaling.
 */
export interface PaperRow {
  label: string;
  /** `data.supervision` of the spec that reproduces the row; absent for the baseline. */
  supervision?: 'qa' | 'caption' | 'qa_caption';
  /** Training images; 2,286 is all of the paper's training split. */
  trainImages?: number;
  baseline: boolean;
  accuracy: number;
  bleu: number;
  rouge1: number;
  rougeL: number;
  bertscore: number;
}

export const PAPER_CITATION =
  'Zhang, Yilmaz, Gencoglan, Temelkuran. Diagnostics 2026, 16(4), 603, Table 1 (SmolVLM-Base + LoRA; BERTScore roberta-large layer 17, no rescaling; 765 test QA)';

/** The paper's training split: "all" training images. */
export const PAPER_ALL_TRAIN_IMAGES = 2286;

const row = (
  label: string,
  supervision: PaperRow['supervision'],
  trainImages: number | undefined,
  [accuracy, bleu, rouge1, rougeL, bertscore]: [number, number, number, number, number],
): PaperRow => ({
  label,
  ...(supervision ? { supervision } : {}),
  ...(trainImages ? { trainImages } : {}),
  baseline: supervision === undefined,
  accuracy,
  bleu,
  rouge1,
  rougeL,
  bertscore,
});

export const PAPER_TABLE_1: readonly PaperRow[] = [
  row('QApairs-500', 'qa', 500, [61.96, 11.46, 40.78, 35.12, 90.19]),
  row('QApairs-1000', 'qa', 1000, [66.41, 10.52, 39.3, 33.28, 89.86]),
  row('QApairs-2286', 'qa', 2286, [68.63, 10.94, 40.6, 34.17, 90.17]),
  row('Caption-500', 'caption', 500, [61.96, 5.23, 29.13, 24.24, 87.58]),
  row('Caption-1000', 'caption', 1000, [63.4, 5.6, 30.65, 25.05, 87.68]),
  row('Caption-2286', 'caption', 2286, [65.36, 6.18, 31.69, 26.08, 87.64]),
  row('QaCaption-500', 'qa_caption', 500, [64.71, 8.2, 34.71, 29.32, 88.74]),
  row('QaCaption-1000', 'qa_caption', 1000, [67.45, 7.69, 34.16, 28.54, 88.75]),
  row('QaCaption-2286', 'qa_caption', 2286, [70.2, 7.87, 34.45, 28.56, 88.79]),
  row('SmolVLM-Instruct', undefined, undefined, [68.24, 3.59, 22.93, 19.1, 87.69]),
];
