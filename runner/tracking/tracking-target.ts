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
  const parsed = URL.canParse(uri) ? new URL(uri) : undefined;
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    return fail({
      reason: 'unsupported-tracking-uri',
      message: `MLFLOW_TRACKING_URI=${withoutUserInfo(uri)}: dermatune talks to MLflow servers over http(s) only`,
    });
  }
  // `http://user:pass@host` (as MLflow's Python client accepts): fetch refuses URLs with
  // credentials, and the URL is printed and hashed, so the user info moves into the
  // Authorization header and out of the URL. Explicit MLFLOW_TRACKING_* variables win.
  const fromUrl = parsed.username
    ? {
        username: decodeURIComponent(parsed.username),
        password: decodeURIComponent(parsed.password),
      }
    : undefined;
  parsed.username = '';
  parsed.password = '';
  const url = parsed.href.replace(/\/+$/, '');
  const token = env.MLFLOW_TRACKING_TOKEN;
  const username = env.MLFLOW_TRACKING_USERNAME ?? fromUrl?.username;
  const password = env.MLFLOW_TRACKING_USERNAME ? env.MLFLOW_TRACKING_PASSWORD : fromUrl?.password;
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

/** For messages about a URI that could not be parsed: cut anything between :// and @. */
function withoutUserInfo(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}
