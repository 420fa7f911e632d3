/**
 * What is known about BIOMEDICA's published repositories, read from their sources (README.md,
 * "Where the skin figures are", lists them). The estimate before a download rests on these
 * figures and nothing else; change one here when a source says otherwise.
 */

/**
 * Bytes per sample across BIOMEDICA: about 27 TB for about 24M samples (the dataset discussions
 * give ~27 TB in ~2,500 shards of 10,000 samples; the card gives 24M image-caption pairs). Each
 * sample's JSON carries its article's full text, which is why a sample weighs ~1.1 MB.
 */
export const BIOMEDICA_BYTES_PER_SAMPLE = 27e12 / 24e6;

export interface RepoFacts {
  /**
   * Share of the repository's samples expected to pass the Clinical Imaging / Skin Lesion filter.
   * An estimate, not a count: what the repository's construction implies.
   */
  filterShare: number;
  /** Where the share comes from, for the estimate's message. */
  basis: string;
}

export const BIOMEDICA_REPOS: Readonly<Record<string, RepoFacts>> = {
  'BIOMEDICA/biomedica_webdataset_24M': {
    // cluster_labels.json: 10 of its 2,000 DINOv2 clusters carry Clinical Imaging + skin lesion
    // (44, 440, 500, 820, 830, 986, 992, 1264, 1498, 1641). Shards are written cluster by
    // cluster, so a shard holds either many skin figures or none; over a uniform draw of
    // clusters the share is 0.5%.
    filterShare: 10 / 2000,
    basis: '10 of the ETL’s 2,000 image clusters are Clinical Imaging / skin lesion',
  },
  'BIOMEDICA/biomedica_dermatology_subset_webdataset': {
    // The dermatology subset is BIOMEDICA's own selection of skin figures; taken as all
    // candidates (an upper bound: the label filter may still drop some).
    filterShare: 1,
    basis: 'the dermatology subset is BIOMEDICA’s own selection of skin figures',
  },
};

/** Any other repository: every sample counted as a candidate (an upper bound). */
export const UNKNOWN_REPO_FACTS: RepoFacts = {
  filterShare: 1,
  basis: 'no published share for this repository: every sample counted (an upper bound)',
};

export function repoFacts(repo: string): RepoFacts {
  return BIOMEDICA_REPOS[repo] ?? UNKNOWN_REPO_FACTS;
}
