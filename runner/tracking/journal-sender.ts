import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { REDACTED, redactText } from '../redact-secrets.ts';
import { EXPERIMENT_TAGS } from './experiment-kind.ts';
import type { JournalEntry } from './journal-entry.ts';
import type { MlflowClient, MlflowError, MlflowResult } from './mlflow-client.ts';
import { sanitizeKey } from './mlflow-limits.ts';
import type { MlflowMetric, MlflowTag } from './mlflow-types.ts';
import type { RunRefs } from './tracking-state.ts';

export type SendOutcome =
  | { outcome: 'sent' }
  /** MLflow refused it (4xx) or it was withheld; resending cannot help, so it is acknowledged. */
  | { outcome: 'rejected'; message: string }
  /** The server is down or failing; the entry stays pending for a later replay. */
  | { outcome: 'unreachable'; message: string };

export interface SendCounters {
  entriesSent: number;
  entriesRejected: number;
  metricsSent: number;
  /** Metrics of a resent batch that the server already held, so were not sent again. */
  metricsAlreadyPresent: number;
}

/**
 * Applies journal entries to an MLflow server. Each operation is made safe to repeat:
 * - create-run first looks for a run carrying the entry's `dermatune.ref` tag;
 * - params and tags are set-semantics in MLflow (same value again is a no-op);
 * - a metric batch that may already have reached the server (`mayBeApplied`) is compared with
 *   the run's metric history and only the missing (key, step, timestamp, value) points go;
 * - inputs are deduped by MLflow by dataset name and digest; artifact PUTs overwrite.
 */
export class JournalSender {
  readonly counters: SendCounters = {
    entriesSent: 0,
    entriesRejected: 0,
    metricsSent: 0,
    metricsAlreadyPresent: 0,
  };
  readonly #client: MlflowClient;
  readonly #refs: RunRefs;
  readonly #secretValues: readonly string[];
  readonly #experiments = new Map<string, string>();

  constructor(client: MlflowClient, refs: RunRefs, secretValues: readonly string[]) {
    this.#client = client;
    this.#refs = refs;
    this.#secretValues = secretValues;
  }

  async send(entry: JournalEntry, mayBeApplied: boolean): Promise<SendOutcome> {
    const outcome = await this.#apply(entry, mayBeApplied);
    if (outcome.outcome === 'sent') this.counters.entriesSent += 1;
    if (outcome.outcome === 'rejected') this.counters.entriesRejected += 1;
    return outcome;
  }

  async #apply(entry: JournalEntry, mayBeApplied: boolean): Promise<SendOutcome> {
    if (entry.op === 'create-run') return this.#createRun(entry);
    const run = this.#refs.get(entry.ref);
    if (!run) return { outcome: 'rejected', message: `run ${entry.ref} was never created` };
    switch (entry.op) {
      case 'log-batch': {
        let metrics = entry.metrics;
        if (mayBeApplied && metrics.length > 0) {
          const missing = await this.#missingMetrics(run.runId, metrics);
          if (!missing.ok) return toOutcome(missing.error);
          this.counters.metricsAlreadyPresent += metrics.length - missing.value.length;
          metrics = missing.value;
        }
        const res = await this.#client.logBatch(run.runId, {
          metrics,
          params: entry.params,
          tags: entry.tags,
        });
        if (res.ok) this.counters.metricsSent += metrics.length;
        return res.ok ? { outcome: 'sent' } : toOutcome(res.error);
      }
      case 'log-inputs': {
        const res = await this.#client.logInputs(run.runId, entry.datasets);
        return res.ok ? { outcome: 'sent' } : toOutcome(res.error);
      }
      case 'upload-artifact': {
        const body = await this.#artifactBody(entry.file);
        if (!body.ok) return { outcome: 'rejected', message: body.error };
        const res = await this.#client.uploadArtifact(
          run.artifactUri,
          entry.artifactPath,
          body.value,
        );
        return res.ok ? { outcome: 'sent' } : toOutcome(res.error);
      }
      case 'update-run': {
        const res = await this.#client.updateRun({
          runId: run.runId,
          status: entry.status,
          endTime: entry.endTime,
        });
        return res.ok ? { outcome: 'sent' } : toOutcome(res.error);
      }
    }
  }

  async #createRun(entry: Extract<JournalEntry, { op: 'create-run' }>): Promise<SendOutcome> {
    if (this.#refs.get(entry.ref)) return { outcome: 'sent' };
    const experimentId = await this.#experimentId(entry.experiment);
    if (!experimentId.ok) return toOutcome(experimentId.error);
    const existing = await this.#client.searchRuns({
      experimentIds: [experimentId.value],
      filter: `tags.\`${REF_TAG}\` = '${entry.ref}'`,
      runViewType: 'ALL',
    });
    if (!existing.ok) return toOutcome(existing.error);
    const found = existing.value[0];
    if (found) {
      await this.#refs.record(entry.ref, {
        runId: found.info.run_id,
        experimentId: experimentId.value,
        artifactUri: found.info.artifact_uri,
      });
      return { outcome: 'sent' };
    }
    const tags: MlflowTag[] = [...entry.tags, { key: REF_TAG, value: entry.ref }];
    if (entry.parentRef) {
      const parent = this.#refs.get(entry.parentRef);
      if (parent) tags.push({ key: 'mlflow.parentRunId', value: parent.runId });
    }
    const created = await this.#client.createRun({
      experimentId: experimentId.value,
      runName: entry.runName,
      startTime: entry.startTime,
      userId: entry.userId,
      tags: tags.map((t) => ({ key: sanitizeKey(t.key), value: t.value })),
    });
    if (!created.ok) {
      // A create whose answer was lost may have been applied: the next attempt searches first.
      return toOutcome(created.error);
    }
    await this.#refs.record(entry.ref, {
      runId: created.value.info.run_id,
      experimentId: experimentId.value,
      artifactUri: created.value.info.artifact_uri,
    });
    return { outcome: 'sent' };
  }

  async #experimentId(name: string): Promise<MlflowResult<string>> {
    const known = this.#experiments.get(name);
    if (known) return { ok: true, value: known };
    const id = await this.#client.ensureExperiment(name, [...EXPERIMENT_TAGS]);
    if (id.ok) this.#experiments.set(name, id.value);
    return id;
  }

  async #missingMetrics(
    runId: string,
    metrics: MlflowMetric[],
  ): Promise<MlflowResult<MlflowMetric[]>> {
    const present = new Set<string>();
    for (const key of new Set(metrics.map((m) => sanitizeKey(m.key)))) {
      const history = await this.#client.getMetricHistory(runId, key);
      if (!history.ok) return history;
      for (const m of history.value) present.add(metricIdentity(m));
    }
    return {
      ok: true,
      value: metrics.filter((m) => !present.has(metricIdentity({ ...m, key: sanitizeKey(m.key) }))),
    };
  }

  /**
   * Reads a file to upload, cutting secret values out of text and withholding a binary file
   * that contains one (it cannot be edited without breaking it).
   */
  async #artifactBody(
    file: string,
  ): Promise<{ ok: true; value: Uint8Array } | { ok: false; error: string }> {
    if (!existsSync(file)) return { ok: false, error: `artifact file ${file} no longer exists` };
    const bytes = await readFile(file);
    const leaked = this.#secretValues.filter((secret) => bytes.includes(secret));
    if (leaked.length === 0) return { ok: true, value: bytes };
    if (bytes.subarray(0, 8000).includes(0)) {
      return { ok: false, error: `withheld ${file}: it contains a secret value (${REDACTED})` };
    }
    return { ok: true, value: Buffer.from(redactText(bytes.toString('utf8'), this.#secretValues)) };
  }
}

/** The tag that carries a run's client ref, so a resend can find a run already created. */
export const REF_TAG = 'dermatune.ref';

function metricIdentity(m: MlflowMetric): string {
  return `${m.key}\u0000${m.step}\u0000${m.timestamp}\u0000${m.value}`;
}

function toOutcome(error: MlflowError): SendOutcome {
  if (error.reason === 'rejected') {
    return { outcome: 'rejected', message: `${error.errorCode}: ${error.message}` };
  }
  return { outcome: 'unreachable', message: `${error.reason}: ${error.message}` };
}
