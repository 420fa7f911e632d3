/**
 * One kept figure, a row of curate's `records.jsonl`: what the paper keeps (caption, the
 * figure's own inline mentions, image size, license, title, citation, journal) plus what later
 * stages need to find and group it (key, image path, article id, figure id). Later stages
 * (annotate, generate-qa, split) read these fields by name; `image` is relative to the curate
 * output folder.
 */
export interface CuratedRecord {
  key: string;
  /** e.g. `images/PMC0000101_F1.jpg`, relative to the folder holding records.jsonl. */
  image: string;
  caption: string;
  /** Paragraphs of the article that cite this figure, XML tags stripped. */
  mentions: string[];
  /** [width, height] as BIOMEDICA reports it; null when absent. */
  image_size: [number, number] | null;
  license: string | null;
  title: string | null;
  citation: string | null;
  journal: string | null;
  /**
   * The group the split keeps on one side: BIOMEDICA's PMCID (all figures of one article), or a
   * table source's `data.columns.group` (a patient), or the record itself when none is mapped.
   */
  article_id: string;
  /** `image_cluster_id`: the figure within the article (panels of one figure share it). */
  figure_id: string | null;
  primary_labels: string[];
  secondary_labels: string[];
  /** The shard or file the record came from, for tracing a record back to the source. */
  shard: string;
  /** A dataset's own label (`data.labeller: from_source` selects by it). */
  label?: string;
  /** A dataset's own QA pair (`data.qa: from_source` takes it instead of asking the LLM). */
  question?: string;
  answer?: string;
}
