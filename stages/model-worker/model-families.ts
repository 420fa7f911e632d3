import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PreflightCheck, PreflightContext } from '../../runner/preflight-check.ts';
import { hubEndpointFrom } from '../biomedica/hub-preflight.ts';
import { WORKER_DIR } from './worker-client.ts';

/**
 * The model families the worker trains and generates with, by config.json `model_type`. The
 * list is the worker's own file (dermatune_worker/families.json), read here too, so preflight
 * refuses a model the worker would refuse, before anything is downloaded or paid for.
 */
interface Family {
  name: string;
  example: string;
}

const FAMILIES_FILE = join(WORKER_DIR, 'dermatune_worker', 'families.json');

let families: Record<string, Family> | undefined;

export function modelFamilies(): Record<string, Family> {
  families ??= JSON.parse(readFileSync(FAMILIES_FILE, 'utf8')) as Record<string, Family>;
  return families;
}

/** The check for a model whose config.json says `modelType`. */
export function familyCheck(base: string, modelType: unknown): PreflightCheck {
  const subject = `model family of ${base}`;
  const known = modelFamilies();
  if (typeof modelType === 'string' && modelType in known) {
    return {
      part: 'model',
      subject,
      outcome: 'passed',
      detail: `${modelType} (${known[modelType]?.name})`,
    };
  }
  const list = Object.entries(known)
    .map(([type, family]) => `${type}: ${family.name}, e.g. ${family.example}`)
    .join('; ');
  return {
    part: 'model',
    subject,
    outcome: 'failed',
    detail: `config.json says model_type ${JSON.stringify(modelType ?? null)}, not a family the worker supports (${list})`,
    setting: 'model.base',
  };
}

/** A local model folder's family, from its config.json. */
export function localFamilyCheck(base: string, folder: string): PreflightCheck {
  let config: { model_type?: unknown };
  try {
    config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as typeof config;
  } catch (error) {
    return {
      part: 'model',
      subject: `model family of ${base}`,
      outcome: 'failed',
      detail: `no readable config.json in ${folder} (${(error as Error).message})`,
      setting: 'model.base',
    };
  }
  return familyCheck(base, config.model_type);
}

/**
 * A hub model's family, from its config.json at the revision (one small file; the same
 * request the worker's download makes first). An unreachable file is skipped, not failed: the
 * repository check beside it says why, and the worker checks again before it loads anything.
 */
export function hubFamilyCheck(
  base: string,
  revision: string,
  ctx: PreflightContext,
): Promise<PreflightCheck> {
  const endpoint = hubEndpointFrom(ctx.env);
  const token = ctx.env.HF_TOKEN?.trim() || undefined;
  return ctx.once(
    `hub-model-family|${endpoint}|${base}|${revision}|${token ? 'token' : ''}`,
    async () => {
      const url = `${endpoint}/${base}/resolve/${encodeURIComponent(revision)}/config.json`;
      try {
        const response = await ctx.fetch(url, {
          headers: token ? { authorization: `Bearer ${token}` } : {},
          signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(30_000)]),
        });
        if (!response.ok) {
          return {
            part: 'model',
            subject: `model family of ${base}`,
            outcome: 'skipped',
            detail: `config.json not readable (HTTP ${response.status}); the worker checks the family before loading`,
          };
        }
        const config = (await response.json()) as { model_type?: unknown };
        return familyCheck(base, config.model_type);
      } catch (error) {
        return {
          part: 'model',
          subject: `model family of ${base}`,
          outcome: 'skipped',
          detail: `config.json not read (${(error as Error).message}); the worker checks the family before loading`,
        };
      }
    },
  );
}
