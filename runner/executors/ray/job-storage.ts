import type { Result } from '../../result.ts';

/**
 * Where Ray jobs find their inputs and leave their outputs: a folder the runner and every node
 * see at the same path (`SharedStorage`), or an S3-compatible bucket (`S3Storage`). The
 * executor speaks only this interface; the two differ in what a job is handed (real paths, or
 * paths under a root that the job's stager maps onto its own scratch copy) and in how bytes move.
 *
 * Locations the executor keeps (a job's folder) are the storage's own strings: a path, or an
 * `s3://` URL. Paths given to the job (`JobPaths`) are what the job opens.
 */
export interface JobStorage {
  /** Shown in messages: the folder, or `s3://bucket/prefix`. */
  readonly where: string;
  /** Proves up front that the storage answers and takes writes: one line when it does not. */
  check(): Promise<Result<void, string>>;
  /** A submission's folder, as the executor records it in the job's metadata. */
  jobDir(submissionId: string): string;
  /** What the job is handed for this submission and key. */
  jobPaths(submissionId: string, key: string): JobPaths;
  /** Writes a file of the job's own (its description, its key) and returns the path the job sees. */
  putJobFile(jobDir: string, name: string, content: string): Promise<string>;
  /** A stored output, put on the storage once per key; returns the path the job sees. */
  shareInput(key: string, outputDir: string): Promise<string>;
  /** A local folder (a model), put on the storage once by content; the path ends with its name. */
  shareFolder(localDir: string): Promise<string>;
  /** Whether a submission's folder is still there (a job not yet committed nor given up). */
  hasJob(jobDir: string): Promise<boolean>;
  /** Copies a finished job's output into `outDir` after checking whose output it is. */
  collect(jobDir: string, key: string, outDir: string): Promise<Result<void, string>>;
  discardJob(jobDir: string): Promise<void>;
  removeResume(key: string): Promise<void>;
  /**
   * The job's command as it must run on the cluster: as is on a shared folder; behind the
   * stager on S3, which fetches what the job reads (`fetched`: paths returned by `shareInput`
   * and `shareFolder` for this job) and uploads what it writes.
   */
  jobCommand(command: string, paths: JobPaths, fetched: readonly string[]): Promise<JobCommand>;
}

export interface JobPaths {
  jobDir: string;
  outDir: string;
  resumeDir: string;
}

export interface JobCommand {
  entrypoint: string;
  /** Code the command needs besides the stage's own (the stager), shipped in the same package. */
  code: { dir: string; include: (relativePath: string) => boolean }[];
  /** Pinned requirement lines it needs besides the stage's own. */
  requirements: string[];
}
