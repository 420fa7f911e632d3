import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ArtifactStore } from '../artifact-store.ts';
import type { Diagnostic } from '../diagnostic.ts';
import { formatDiagnostics } from '../diagnostic.ts';
import type { Result } from '../result.ts';
import { DEFAULT_MAX_VARIANTS } from '../sweep.ts';
import {
  checkSweep,
  type PlanRequest,
  planSweep,
  type SweepCheck,
  type SweepPlan,
} from '../sweep-plan.ts';
import type { CliContext, CommandArgs, OptionSpec } from './cli-context.ts';

export const storeOption: OptionSpec = {
  type: 'string',
  description: 'store folder (default: $DERMATUNE_STORE or ./artifacts)',
};

export const specOptions: Record<string, OptionSpec> = {
  set: {
    type: 'string',
    multiple: true,
    description: 'override a setting, e.g. --set train.lora.rank=16 (repeatable)',
  },
  only: {
    type: 'string',
    multiple: true,
    description: 'only these variants (repeatable, or comma-separated)',
  },
  store: storeOption,
  'max-variants': {
    type: 'string',
    description: `refuse sweeps of more variants than this (default: ${DEFAULT_MAX_VARIANTS})`,
  },
};

/**
 * The store the command works on, or undefined (the reason printed) when the path names
 * something that is not a folder: reading it as an empty store would report "0 cached".
 * A store that does not exist yet is fine; it is created on first write.
 */
export function openStore(args: CommandArgs, ctx: CliContext): ArtifactStore | undefined {
  const chosen =
    (args.values.store as string | undefined) ?? ctx.io.env.DERMATUNE_STORE ?? 'artifacts';
  const root = resolve(ctx.io.cwd, chosen);
  try {
    if (!statSync(root).isDirectory()) {
      ctx.io.stderr(`the store ${root} is not a folder; pass --store with a folder\n`);
      return undefined;
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') {
      ctx.io.stderr(`cannot open the store ${root} (${code}); pass --store with a folder\n`);
      return undefined;
    }
  }
  return new ArtifactStore(root);
}

export function listOption(args: CommandArgs, name: string): string[] {
  const value = args.values[name];
  const list = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
  return list
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

/**
 * Loads, validates and plans the spec; prints the diagnostics and returns undefined if invalid.
 * `fresh: false` is for the commands that only show the sweep (plan, status, why): see
 * FingerprintContext. Whatever stores or removes by key keeps the default.
 */
export async function loadPlan(
  args: CommandArgs,
  ctx: CliContext,
  options: { fresh?: boolean } = {},
): Promise<SweepPlan | undefined> {
  const request = planRequest(args, ctx);
  return request && reported(await planSweep(ctx.pipeline, { ...request, ...options }), ctx);
}

/** Loads and validates the spec as `loadPlan` does, without keying its stages (`validate`). */
export async function loadCheck(
  args: CommandArgs,
  ctx: CliContext,
): Promise<SweepCheck | undefined> {
  const request = planRequest(args, ctx);
  return request && reported(await checkSweep(ctx.pipeline, request), ctx);
}

function planRequest(args: CommandArgs, ctx: CliContext): PlanRequest | undefined {
  const specPath = resolve(ctx.io.cwd, args.positionals[0] ?? '');
  const rawMax = args.values['max-variants'];
  const maxVariants = rawMax === undefined ? DEFAULT_MAX_VARIANTS : Number(rawMax);
  if (!Number.isSafeInteger(maxVariants) || maxVariants < 1) {
    ctx.io.stderr(`--max-variants must be a positive integer (got ${JSON.stringify(rawMax)})\n`);
    return undefined;
  }
  return {
    specPath,
    sets: listOption(args, 'set').length > 0 ? rawList(args, 'set') : [],
    only: listOption(args, 'only'),
    maxVariants,
  };
}

function reported<T>(planned: Result<T, Diagnostic[]>, ctx: CliContext): T | undefined {
  if (!planned.ok) {
    const count = planned.error.length;
    ctx.io.stderr(
      `${formatDiagnostics(planned.error, ctx.io.cwd)}\n\n${count} problem${count === 1 ? '' : 's'} in the spec; nothing was run.\n`,
    );
    return undefined;
  }
  return planned.value;
}

/** `--set` values may contain commas (`[q_proj, v_proj]`), so they are not split. */
function rawList(args: CommandArgs, name: string): string[] {
  const value = args.values[name];
  return Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
}
