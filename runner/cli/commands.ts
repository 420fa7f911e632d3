import type { Command } from './cli-context.ts';

/**
 * The commands of the `dermatune` binary, in the order `--help` lists them. Each command's module
 * loads only when it runs: `--version` or `validate` loads no scheduler, executor or tracking.
 */
export const commands: readonly Command[] = [
  {
    name: 'validate',
    summary: 'check a spec against its schema and rules; print every problem with its position',
    load: async () => (await import('./commands/validate.ts')).validateCommand,
  },
  {
    name: 'plan',
    summary:
      'show every stage of a sweep: which variants use it, and whether it is cached, to run or stale',
    load: async () => (await import('./commands/plan.ts')).planCommand,
  },
  {
    name: 'preflight',
    summary:
      'prove every external part the spec uses (LLM, hub, MLflow, GPU) and print what the run will cost, before anything is paid',
    load: async () => (await import('./commands/preflight.ts')).preflightCommand,
  },
  {
    name: 'run',
    summary: 'run a sweep: every stage that is not already stored, in parallel within resources',
    load: async () => (await import('./commands/run.ts')).runCommand,
  },
  {
    name: 'status',
    summary: 'how far each variant of a sweep has got, and whether a run holds the store',
    load: async () => (await import('./commands/status.ts')).statusCommand,
  },
  {
    name: 'why',
    summary:
      'explain whether a stage would run, and which part of its key changed since it last ran',
    load: async () => (await import('./commands/why.ts')).whyCommand,
  },
  {
    name: 'gc',
    summary:
      'remove stored stages that no spec references (the latest run of every sweep, plus the specs named)',
    load: async () => (await import('./commands/gc.ts')).gcCommand,
  },
  {
    name: 'verify',
    summary: 'check every stored output against its recorded hashes; move damaged ones aside',
    load: async () => (await import('./commands/verify.ts')).verifyCommand,
  },
  {
    name: 'ui',
    summary: "browse the store's runs in the MLflow UI (the same server runs log to), until Ctrl-C",
    load: async () => (await import('./commands/ui.ts')).uiCommand,
  },
  {
    name: 'sync',
    summary: 'send tracking calls kept in the journal while MLflow was unreachable (idempotent)',
    load: async () => (await import('./commands/sync.ts')).syncCommand,
  },
];
