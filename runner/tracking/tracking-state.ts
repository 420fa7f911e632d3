import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readJsonLines } from './journal-store.ts';

/** What a client run ref became on the server. */
export interface ServerRun {
  runId: string;
  experimentId: string;
  artifactUri: string;
}

/**
 * Durable client-ref -> server-run map of one target. Written when a create-run is answered,
 * read by every later session, so entries journalled offline last week still find their run.
 */
export class RunRefs {
  readonly #path: string;
  readonly #runs = new Map<string, ServerRun>();

  private constructor(path: string) {
    this.#path = path;
  }

  static async load(journalDir: string): Promise<RunRefs> {
    const refs = new RunRefs(join(journalDir, 'refs.jsonl'));
    if (existsSync(refs.#path)) {
      const lines = readJsonLines<{ ref: string } & ServerRun>(await readFile(refs.#path, 'utf8'));
      for (const { ref, ...run } of lines) refs.#runs.set(ref, run);
    }
    return refs;
  }

  get(ref: string): ServerRun | undefined {
    return this.#runs.get(ref);
  }

  async record(ref: string, run: ServerRun): Promise<void> {
    this.#runs.set(ref, run);
    await mkdir(dirname(this.#path), { recursive: true });
    await appendFile(this.#path, `\n${JSON.stringify({ ref, ...run })}\n`);
  }
}

export type RunLink =
  | { type: 'sweep'; sweepId: string; ref: string }
  /**
   * A variant run that was started. A later session resumes it while it is open (the process
   * died or was stopped); a run that failed is closed, and a retry gets a run of its own.
   */
  | { type: 'attempt'; identity: string; ref: string; open: boolean }
  | {
      type: 'variant';
      /** Hash of sweep id, variant name and the keys of every node the variant needs. */
      identity: string;
      ref: string;
      variant: string;
    };

/**
 * Which run stands for which sweep and which finished variant, by client ref. Lets a rerun reuse
 * the sweep's parent run and lets a fully cached variant point at the run that produced it
 * instead of logging a duplicate. Written when decided (not when sent), so it holds offline too.
 */
export class RunLinks {
  readonly #path: string;
  readonly #sweeps = new Map<string, string>();
  readonly #variants = new Map<string, string>();
  readonly #attempts = new Map<string, string>();

  private constructor(path: string) {
    this.#path = path;
  }

  static async load(journalDir: string): Promise<RunLinks> {
    const links = new RunLinks(join(journalDir, 'links.jsonl'));
    if (existsSync(links.#path)) {
      for (const link of readJsonLines<RunLink>(await readFile(links.#path, 'utf8'))) {
        links.#remember(link);
      }
    }
    return links;
  }

  sweepRef(sweepId: string): string | undefined {
    return this.#sweeps.get(sweepId);
  }

  variantRef(identity: string): string | undefined {
    return this.#variants.get(identity);
  }

  /** The open (resumable) attempt of a variant, if any. */
  attemptRef(identity: string): string | undefined {
    return this.#attempts.get(identity);
  }

  async record(link: RunLink): Promise<void> {
    this.#remember(link);
    await mkdir(dirname(this.#path), { recursive: true });
    await appendFile(this.#path, `\n${JSON.stringify(link)}\n`);
  }

  #remember(link: RunLink): void {
    if (link.type === 'sweep') this.#sweeps.set(link.sweepId, link.ref);
    else if (link.type === 'attempt') {
      if (link.open) this.#attempts.set(link.identity, link.ref);
      else this.#attempts.delete(link.identity);
    } else this.#variants.set(link.identity, link.ref);
  }
}
