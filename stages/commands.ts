import type { Command } from '../runner/cli/cli-context.ts';
import { scoreCommand } from './evaluate/score-command.ts';
import { doctorCommand } from './model-worker/doctor-command.ts';
import { tableCommand } from './report/table-command.ts';

/** The study's own commands, added to the runner's generic ones by the binary. */
export const studyCommands: readonly Command[] = [tableCommand, scoreCommand, doctorCommand];
