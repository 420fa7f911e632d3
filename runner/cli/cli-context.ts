import type { Pipeline } from '../pipeline.ts';
import type { RunObserver, SweepInfo } from '../run-events.ts';

/** Everything a command touches outside itself, so tests drive commands without spawning. */
export interface CliContext {
  pipeline: Pipeline;
  io: CliIo;
  version: string;
  /**
   * Tracking for a run (MLflow); absent in tests that do not exercise it. It gets the pipeline
   * for its stage kinds' tracking declarations (metric prefixes, dataset inputs).
   */
  tracking?: (sweep: SweepInfo, io: CliIo, pipeline: Pipeline) => Promise<TrackingSession>;
  /** Installs SIGINT/SIGTERM handlers that abort the returned signal. */
  interrupts?: () => { signal: AbortSignal; dispose(): void };
}

export interface TrackingSession {
  observer: RunObserver;
  /** Where the user sees the runs (a URL or how to start the UI). */
  where: string;
  close(): Promise<void>;
}

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Whether stdout is an interactive terminal (live progress) or a pipe/CI log (plain lines). */
  isTTY: boolean;
}

/**
 * A command as the binary lists it: its name and one line for `--help`, and its code, loaded
 * only when it is the one called, so that start-up pays for that command alone.
 */
export interface Command {
  name: string;
  summary: string;
  load(): Promise<CommandCode>;
}

/** A command's usage, options and what it does (its module's export). */
export interface CommandCode {
  usage: string;
  options: Record<string, OptionSpec>;
  /** Positional arguments: names for the help text. */
  positionals: { name: string; required: boolean; many?: boolean }[];
  run(args: CommandArgs, ctx: CliContext): Promise<number>;
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  description: string;
  default?: string | boolean;
}

export interface CommandArgs {
  positionals: string[];
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
}

export const EXIT_OK = 0;
export const EXIT_STAGE_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;
