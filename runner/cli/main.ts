import { parseArgs } from 'node:util';
import { closest } from 'fastest-levenshtein';
import type { CliContext, Command, CommandCode } from './cli-context.ts';
import { EXIT_OK, EXIT_USAGE } from './cli-context.ts';
import { terminalSafe } from './terminal-text.ts';

/**
 * The command line as a function of its arguments and context, so tests run commands
 * in-process. Arguments are parsed strictly with node:util's parseArgs: an unknown or
 * malformed option is a usage error (exit 2), never silently ignored.
 */
export async function runCli(
  argv: readonly string[],
  rawCtx: CliContext,
  commands: readonly Command[],
): Promise<number> {
  // Every line a command prints may quote data or specs: no raw control character reaches
  // the terminal, whichever command or message it is.
  const ctx: CliContext = {
    ...rawCtx,
    io: {
      ...rawCtx.io,
      stdout: (text) => rawCtx.io.stdout(terminalSafe(text)),
      stderr: (text) => rawCtx.io.stderr(terminalSafe(text)),
    },
  };
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? commands.find((c) => c.name === rest[0]) : undefined;
    ctx.io.stdout(topic ? commandHelp(topic, await topic.load()) : overview(commands, ctx.version));
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version' || name === '-v') {
    ctx.io.stdout(`dermatune ${ctx.version}\n`);
    return EXIT_OK;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    const suggestion = closest(
      name,
      commands.map((c) => c.name),
    );
    ctx.io.stderr(
      `unknown command "${name}"; did you mean "${suggestion}"? (dermatune --help lists them)\n`,
    );
    return EXIT_USAGE;
  }
  const command = await entry.load();
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...rest],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    ctx.io.stderr(`${message}\nusage: ${command.usage}\n`);
    return EXIT_USAGE;
  }
  if (parsed.values.help) {
    ctx.io.stdout(commandHelp(entry, command));
    return EXIT_OK;
  }
  const required = command.positionals.filter((p) => p.required).length;
  const allowsMany = command.positionals.some((p) => p.many);
  if (
    parsed.positionals.length < required ||
    (!allowsMany && parsed.positionals.length > command.positionals.length)
  ) {
    ctx.io.stderr(`usage: ${command.usage}\n`);
    return EXIT_USAGE;
  }
  try {
    return await command.run({ positionals: parsed.positionals, values: parsed.values }, ctx);
  } catch (error) {
    const refused = refusedByTheSystem(error);
    if (!refused) throw error;
    ctx.io.stderr(`${refused}\n`);
    return EXIT_USAGE;
  }
}

/**
 * The file system refusing an operation (a read-only or unreadable store, a full disk, a file
 * where a folder should be) is the user's environment, not a bug: say what and where, exit 2.
 */
const REFUSALS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a file is in the way of a folder',
  EISDIR: 'a folder is where a file should be',
};

function refusedByTheSystem(error: unknown): string | undefined {
  const e = error as NodeJS.ErrnoException | undefined;
  const why = e && typeof e.code === 'string' ? REFUSALS[e.code] : undefined;
  if (!why) return undefined;
  return `cannot ${e?.syscall ?? 'access'} ${e?.path ?? 'a file'}: ${why} (${e?.code})`;
}

function overview(commands: readonly Command[], version: string): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `dermatune ${version}: declarative, cached fine-tuning studies of small vision-language models`,
    '',
    'usage: dermatune <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "dermatune <command> --help shows a command's options. Exit codes: 0 success, 1 a stage failed, 2 invalid input or usage.",
    '',
  ].join('\n');
}

function commandHelp(entry: Command, command: CommandCode): string {
  const options = Object.entries(command.options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.type === 'string' ? ' <value>' : ''}`;
    return [flag, spec.description] as const;
  });
  const width = Math.max(0, ...options.map(([flag]) => flag.length));
  return [
    `usage: ${command.usage}`,
    '',
    entry.summary,
    '',
    ...(options.length > 0
      ? ['options:', ...options.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`), '']
      : []),
  ].join('\n');
}
