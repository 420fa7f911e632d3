import type { Command } from './cli-context.ts';
import { gcCommand } from './commands/gc.ts';
import { planCommand } from './commands/plan.ts';
import { preflightCommand } from './commands/preflight.ts';
import { runCommand } from './commands/run.ts';
import { statusCommand } from './commands/status.ts';
import { syncCommand } from './commands/sync.ts';
import { uiCommand } from './commands/ui.ts';
import { validateCommand } from './commands/validate.ts';
import { verifyCommand } from './commands/verify.ts';
import { whyCommand } from './commands/why.ts';

/** The commands of the `dermatune` binary, in the order `--help` lists them. */
export const commands: readonly Command[] = [
  validateCommand,
  planCommand,
  preflightCommand,
  runCommand,
  statusCommand,
  whyCommand,
  gcCommand,
  verifyCommand,
  uiCommand,
  syncCommand,
];
