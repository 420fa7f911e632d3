import { join } from 'node:path';
import { projectRoot } from '../project-root.ts';
import { secretEnvValues } from '../redact-secrets.ts';
import { fail, ok, type Result } from '../result.ts';
import type { RunObserver } from '../run-events.ts';
import type { AnyStageKind } from '../stage-kind.ts';
import { JournalPump, type PumpReport } from './journal-pump.ts';
import { replaySegments } from './journal-replay.ts';
import { JournalSender, type SendCounters } from './journal-sender.ts';
import { JournalSegmentWriter, journalledMetricSteps, pendingSegments } from './journal-store.ts';
import { kindTracking } from './kind-tracking.ts';
import { MlflowClient } from './mlflow-client.ts';
import { MlflowObserver } from './mlflow-observer.ts';
import { startTrackingServer, type TrackingServer, trackingDir } from './mlflow-server.ts';
import { currentUser, sourceTags } from './source-tags.ts';
import { RunLinks, RunRefs } from './tracking-state.ts';
import {
  resolveTrackingTarget,
  type TrackingTarget,
  type TrackingTargetFailure,
} from './tracking-target.ts';

export interface TrackingOptions {
  /** The store root; tracking keeps its database, artifacts and journal under `tracking/`. */
  storeDir: string;
  /** Where MLFLOW_TRACKING_* and secrets are read from. Defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** An embedded server already running on this store (the tests, `ui`); not stopped by close. */
  server?: Pick<TrackingServer, 'url'>;
  /** What the runs' source tag says started them, e.g. `dermatune run`. */
  entryPoint?: string;
  log?: (line: string) => void;
  metricFlushMs?: number;
  /** How long close() may spend sending what is still pending before leaving it to `sync`. */
  closeTimeoutMs?: number;
  /**
   * The pipeline's stage kinds, whose `tracking` declarations give metric prefixes and dataset
   * inputs. Absent (logging report files only), metrics keep their kind's name as prefix.
   */
  kinds?: readonly AnyStageKind[];
}

export interface Tracking {
  observer: RunObserver;
  /** Attaches files (the sweep's report) to a tracked sweep's parent run; false if none. */
  logSweepFiles(
    sweepId: string,
    files: readonly { file: string; artifactPath: string }[],
  ): Promise<boolean>;
  target: 'off' | 'embedded' | { url: string };
  /**
   * The server's URL once it answers (the embedded one starts in the background), or undefined
   * when it could not start. The embedded server lives until close().
   */
  serverUrl(): Promise<string | undefined>;
  /**
   * Flushes, sends what the server takes within the deadline, stops an embedded server it
   * started. What is left stays journalled for the next run or `dermatune sync`.
   */
  close(): Promise<PumpReport>;
}

/**
 * Tracking for one `dermatune run`: journal first, MLflow behind it. The embedded server starts
 * in the background, so the run never waits for it; `DERMATUNE_TRACKING=off` disables tracking.
 */
export async function createTracking(
  options: TrackingOptions,
): Promise<Result<Tracking, TrackingTargetFailure>> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  if (env.DERMATUNE_TRACKING === 'off') {
    return ok({
      observer: {},
      logSweepFiles: async () => false,
      target: 'off',
      serverUrl: async () => undefined,
      close: async () => ({ acknowledged: 0, pending: 0 }),
    });
  }
  const target = resolveTrackingTarget(options.storeDir, env);
  if (!target.ok) return target;
  const secretValues = secretEnvValues(env);
  const { journalDir } = target.value;
  const [refs, links] = await Promise.all([RunRefs.load(journalDir), RunLinks.load(journalDir)]);
  const writer = await JournalSegmentWriter.open(journalDir, secretValues, (error) =>
    log(`tracking: journal lock lost (${error.message})`),
  );

  let ownedServer: Promise<TrackingServer | undefined> = Promise.resolve(undefined);
  const abandonStart = new AbortController();
  let client: Promise<MlflowClient | undefined> | undefined;
  // The embedded server starts on the first call that needs it (a fully cached rerun has none).
  const connect = (): Promise<MlflowClient | undefined> => {
    if (client) return client;
    if (target.value.kind === 'remote' || options.server) {
      client = Promise.resolve(clientFor(target.value, options.server));
      return client;
    }
    ownedServer = startTrackingServer({
      storeDir: options.storeDir,
      log,
      signal: abandonStart.signal,
    }).then((started) => {
      if (started.ok) return started.value;
      if (started.error.reason !== 'aborted')
        log(
          `tracking: embedded MLflow server did not start (${started.error.message}); journalling only`,
        );
      return undefined;
    });
    client = ownedServer.then((server) => server && new MlflowClient({ url: server.url }));
    return client;
  };
  let sender: Promise<JournalSender | undefined> | undefined;
  const pump = new JournalPump({
    writer,
    journalDir,
    sender: () => {
      sender ??= connect().then((c) => c && new JournalSender(c, refs, secretValues));
      return sender;
    },
    log,
  });
  // Replay what earlier sessions left as soon as the server answers, not at the first event.
  if ((await pendingSegments(journalDir)).some((segment) => segment !== writer.path)) pump.kick();
  let tags: ReturnType<typeof sourceTags> | undefined;
  const observer = new MlflowObserver({
    record: (op) => pump.record(op),
    links,
    blobsDir: join(trackingDir(options.storeDir), 'blobs'),
    secretValues,
    sourceTags: () => {
      tags ??= sourceTags(options.entryPoint ?? 'dermatune run', projectRoot());
      return tags;
    },
    userId: currentUser(),
    log,
    journalledSteps: (ref) => journalledMetricSteps(journalDir, ref),
    ...kindTracking(options.kinds ?? []),
    ...(options.metricFlushMs !== undefined ? { metricFlushMs: options.metricFlushMs } : {}),
  });
  return ok({
    observer,
    logSweepFiles: (sweepId, files) => observer.logSweepFiles(sweepId, files),
    target: target.value.kind === 'remote' ? { url: target.value.url } : 'embedded',
    serverUrl: async () => (await connect())?.url,
    close: async () => {
      await observer.abandonOpenSweeps();
      await observer.flush();
      const report = await pump.finish(options.closeTimeoutMs ?? 60_000);
      // A server still starting is not waited for: what it would have taken stays journalled.
      abandonStart.abort();
      await (await ownedServer)?.stop();
      return report;
    },
  });
}

export interface SyncReport extends SendCounters {
  target: 'embedded' | { url: string };
  /** Segments another process (a live run) holds; they are sent by that process. */
  busySegments: number;
}

export type SyncFailure =
  | TrackingTargetFailure
  | { reason: 'server-unavailable'; message: string }
  | { reason: 'server-unreachable'; message: string; pendingEntries: number; report: SyncReport };

/**
 * `dermatune sync`: sends every journalled call the server has not acknowledged yet, starting
 * the embedded server for the purpose when no MLFLOW_TRACKING_URI is set. Idempotent.
 */
export async function syncJournal(options: {
  storeDir: string;
  env?: Readonly<Record<string, string | undefined>>;
  server?: Pick<TrackingServer, 'url'>;
  log?: (line: string) => void;
}): Promise<Result<SyncReport, SyncFailure>> {
  const env = options.env ?? process.env;
  const target = resolveTrackingTarget(options.storeDir, env);
  if (!target.ok) return target;
  let owned: TrackingServer | undefined;
  let client = clientFor(target.value, options.server);
  if (!client) {
    const started = await startTrackingServer({ storeDir: options.storeDir, log: options.log });
    if (!started.ok) return fail({ reason: 'server-unavailable', message: started.error.message });
    owned = started.value;
    client = new MlflowClient({ url: owned.url });
  }
  try {
    const refs = await RunRefs.load(target.value.journalDir);
    const sender = new JournalSender(client, refs, secretEnvValues(env));
    const replay = await replaySegments(target.value.journalDir, sender, {
      ...(options.log ? { log: options.log } : {}),
    });
    const report: SyncReport = {
      target: target.value.kind === 'remote' ? { url: target.value.url } : 'embedded',
      ...sender.counters,
      busySegments: replay.busySegments,
    };
    if (!replay.complete) {
      return fail({
        reason: 'server-unreachable',
        message: replay.lastError ?? 'unreachable',
        pendingEntries: replay.pendingEntries,
        report,
      });
    }
    return ok(report);
  } finally {
    await owned?.stop();
  }
}

function clientFor(
  target: TrackingTarget,
  server: Pick<TrackingServer, 'url'> | undefined,
): MlflowClient | undefined {
  if (target.kind === 'remote') {
    return new MlflowClient({ url: target.url, ...(target.auth ? { auth: target.auth } : {}) });
  }
  return server ? new MlflowClient({ url: server.url }) : undefined;
}
