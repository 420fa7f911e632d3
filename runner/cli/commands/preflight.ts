import type { ArtifactStore } from '../../artifact-store.ts';
import { resolveExecutor } from '../../executors/executor-settings.ts';
import { formatCheck, type PreflightReport, runPreflight } from '../../preflight.ts';
import type { PreflightCheck, PreflightContext } from '../../preflight-check.ts';
import type { SweepPlan } from '../../sweep-plan.ts';
import { trackingPreflight } from '../../tracking/mlflow-preflight.ts';
import { type CliContext, type CommandCode, EXIT_OK, EXIT_USAGE } from '../cli-context.ts';
import { loadPlan, openStore, specOptions } from '../common.ts';

export const preflightCommand: CommandCode = {
  usage: 'dermatune preflight <spec.yaml> [--set key=value]... [--only variant]... [--no-tracking]',
  options: {
    ...specOptions,
    'no-tracking': {
      type: 'boolean',
      description: 'the run will not log to MLflow: skip its check',
    },
  },
  positionals: [{ name: 'spec', required: true }],
  async run(args, ctx) {
    const plan = await loadPlan(args, ctx);
    if (!plan) return EXIT_USAGE;
    const store = openStore(args, ctx);
    if (!store) return EXIT_USAGE;
    const stored = new Set(await store.storedKeys());
    const toRun = plan.graph.nodes.filter((n) => !stored.has(n.key));
    const interrupts = ctx.interrupts?.() ?? { signal: new AbortController().signal, dispose() {} };
    try {
      const report = await preflightNodes(plan, toRun, store, stored, ctx, {
        tracking: args.values['no-tracking'] !== true,
        signal: interrupts.signal,
        // `run` proves the storage when it connects the executor; preflight has no executor.
        executorStorage: true,
      });
      const out: string[] = [
        `${plan.specName}: ${plan.graph.nodes.length} stage(s), ${plan.graph.nodes.length - toRun.length} stored, ${toRun.length} to run.`,
        '',
        ...report.checks.map(formatCheck),
        '',
        ...formatEstimate(report),
      ];
      ctx.io.stdout(`${out.join('\n')}\n`);
      if (report.failed > 0) {
        ctx.io.stderr(
          `\n${report.failed} check(s) failed; a run would stop before it starts anything:\n${report.checks
            .filter((c) => c.outcome === 'failed')
            .map((c) => `  ${failureLine(c)}`)
            .join('\n')}\n`,
        );
        return EXIT_USAGE;
      }
      return EXIT_OK;
    } finally {
      interrupts.dispose();
    }
  },
};

/** The preflight of the stages about to run, plus the tracking server's when the run logs. */
export async function preflightNodes(
  plan: SweepPlan,
  toRun: SweepPlan['graph']['nodes'],
  store: ArtifactStore,
  stored: ReadonlySet<string>,
  ctx: CliContext,
  options: { tracking: boolean; signal: AbortSignal; executorStorage?: boolean },
): Promise<PreflightReport> {
  return runPreflight(toRun, {
    env: ctx.io.env,
    signal: options.signal,
    storedOutputDir: (key) => (stored.has(key) ? store.outputDir(key) : undefined),
    extra: [
      ...(options.tracking
        ? [
            {
              name: 'tracking',
              run: (pctx: PreflightContext) => trackingPreflight(plan.specName, store.root, pctx),
            },
          ]
        : []),
      ...(options.executorStorage
        ? [{ name: 'executor storage', run: () => executorStoragePreflight(plan, ctx) }]
        : []),
    ],
  });
}

/**
 * The spec's Ray executor storage, proved as the run's executor proves it (one list, write and
 * delete); nothing for the local executor. The executor's own settings errors fail here too.
 */
async function executorStoragePreflight(
  plan: SweepPlan,
  ctx: CliContext,
): Promise<PreflightCheck[]> {
  const choice = resolveExecutor(
    plan.variants.map((v) => v.spec),
    {},
    ctx.io.env,
    ctx.io.cwd,
  );
  if (!choice.ok) {
    return [
      {
        part: 'executor',
        subject: 'settings',
        outcome: 'failed',
        detail: choice.error,
        setting: 'executor',
      },
    ];
  }
  if (choice.value.kind === 'local') return [];
  // Loaded only for a spec that names a cluster, as `run` does.
  const { openJobStorage } = await import('../../executors/ray/ray-executor.ts');
  const storage = choice.value.ray.storage;
  const subject = storage.kind === 's3' ? 'S3 storage' : `shared folder ${storage.root}`;
  const usable = await openJobStorage(storage, ctx.io.env).check();
  return [
    usable.ok
      ? {
          part: 'executor',
          subject,
          outcome: 'passed',
          detail: 'listed it, wrote and deleted a probe object',
        }
      : {
          part: 'executor',
          subject,
          outcome: 'failed',
          detail: usable.error,
          setting: 'executor.ray.storage',
        },
  ];
}

/** A failed check as one line naming what to change. */
export function failureLine(check: PreflightCheck): string {
  return `${check.setting ? `${check.setting}: ` : ''}${check.part} ${check.subject}: ${check.detail}`;
}

function formatEstimate(report: PreflightReport): string[] {
  if (report.estimates.length === 0) return ['Cost: nothing to run buys anything.'];
  const lines = ['Cost before it runs (stored stages cost nothing):'];
  for (const { stage, estimate } of report.estimates) {
    const parts = formatAmounts(estimate.amounts);
    const usd = estimate.usd !== undefined ? ` <= ${formatUsd(estimate.usd)}` : '';
    const note = estimate.note ? `${parts ? '; ' : ''}${estimate.note}` : '';
    lines.push(`  ${stage}: ${parts}${usd}${note}`);
  }
  const total = formatAmounts(report.totals.amounts);
  lines.push(
    `  total known: ${total || 'nothing countable yet'}${report.totals.usd !== undefined ? `, at most ${formatUsd(report.totals.usd)}` : ''}`,
  );
  return lines;
}

function formatAmounts(amounts: Record<string, number>): string {
  return Object.entries(amounts)
    .map(([name, value]) =>
      name.endsWith('bytes')
        ? `${formatBytes(value)} ${name.replace(/ ?bytes$/, '')}`.trim()
        : `${Math.round(value).toLocaleString('en-US')} ${name}`,
    )
    .join(', ');
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function formatUsd(usd: number): string {
  return `$${usd < 0.01 && usd > 0 ? usd.toPrecision(2) : usd.toFixed(2)}`;
}
