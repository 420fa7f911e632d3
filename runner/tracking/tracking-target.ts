import { join } from 'node:path';
import { sha256Hex } from '../canonical-json.ts';
import { fail, ok, type Result } from '../result.ts';
import type { MlflowClientOptions } from './mlflow-client.ts';
import { trackingDir } from './mlflow-server.ts';

/**
 * Where runs go. With MLFLOW_TRACKING_URI set, that server (over REST 2.0, with the usual
 * MLFLOW_TRACKING_TOKEN or USERNAME/PASSWORD); otherwise the embedded server on the store's own
 * database. Each target keeps its own journal, since client refs resolve to server run ids
 * per server.
 */
export type TrackingTarget =
  | { kind: 'embedded'; journalDir: string }
  | {
      kind: 'remote';
      url: string;
      auth?: MlflowClientOptions['auth'];
      journalDir: string;
    };

export interface TrackingTargetFailure {
  reason: 'unsupported-tracking-uri';
  message: string;
}

export function resolveTrackingTarget(
  storeDir: string,
  env: Readonly<Record<string, string | undefined>>,
): Result<TrackingTarget, TrackingTargetFailure> {
  const journalRoot = join(trackingDir(storeDir), 'journal');
  const uri = env.MLFLOW_TRACKING_URI?.trim();
  if (!uri) return ok({ kind: 'embedded', journalDir: join(journalRoot, 'embedded') });
  if (!/^https?:\/\//.test(uri)) {
    return fail({
      reason: 'unsupported-tracking-uri',
      message: `MLFLOW_TRACKING_URI=${uri}: dermatune talks to MLflow servers over http(s) only`,
    });
  }
  const url = uri.replace(/\/+$/, '');
  const token = env.MLFLOW_TRACKING_TOKEN;
  const username = env.MLFLOW_TRACKING_USERNAME;
  const password = env.MLFLOW_TRACKING_PASSWORD;
  const auth = token
    ? { token }
    : username && password !== undefined
      ? { username, password }
      : undefined;
  return ok({
    kind: 'remote',
    url,
    ...(auth ? { auth } : {}),
    journalDir: join(journalRoot, `remote-${sha256Hex(url).slice(0, 12)}`),
  });
}
