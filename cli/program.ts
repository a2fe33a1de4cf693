import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { SluiceError } from 'sluice';
import { messageOf } from '../core/internal.js';
import { checkCommand } from './check-command.js';
import { EXIT, UsageError, type CliIo } from './cli-io.js';
import { inspectCommand, type InspectCommandOptions } from './inspect-command.js';
import { MonitorUnavailable } from './monitor-client.js';
import { packageVersion } from './package-version.js';
import { queryCommand, type QueryCommandOptions } from './query-command.js';
import { runJob, type RunOptions } from './run-command.js';
import { stateCommand, type StateCommandOptions } from './state-command.js';

const TOKEN_HELP = "the running job's monitor token (default: the environment's SLUICE_MONITOR_TOKEN)";

/**
 * The `sluice` command (docs/cli.md): `run`, `inspect`, `state`, `query`, `check`, `--version`, `--help`.
 *
 * @param argv - the arguments after the command name.
 * @returns the exit status: 0 on success, 1 when the command failed (or `check` found the job
 * incompatible), 2 for arguments to change (the message says what).
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let status: number = EXIT.ok;
  const program = buildProgram(io, await packageVersion(), (next) => {
    status = next;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return status;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end the parse with a "0" error; a bare `sluice` prints its help.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
      return EXIT.usage;
    }
    const command = argv[0] ?? '';
    if (error instanceof UsageError) {
      io.err(`sluice ${command}: ${error.message}`);
      io.err(`(see sluice ${command} --help)`);
      return EXIT.usage;
    }
    if (error instanceof MonitorUnavailable) {
      io.err(`sluice ${command}: ${error.message}`);
      return EXIT.failed;
    }
    io.err(`sluice ${command}: ${error instanceof SluiceError ? `${error.code}: ` : ''}${messageOf(error)}`);
    return EXIT.failed;
  }
}

function buildProgram(io: CliIo, version: string, exit: (status: number) => void): Command {
  const program = new Command('sluice')
    .description('Runs and inspects Sluice streaming jobs.')
    .version(version, '-v, --version', 'prints the version of Sluice')
    .helpOption('-h, --help', 'prints this help')
    .exitOverride()
    .configureOutput({ writeOut: (text) => { io.out(text.trimEnd()); }, writeErr: (text) => { io.err(text.trimEnd()); } })
    .showHelpAfterError('(add --help for usage and an example)')
    .showSuggestionAfterError()
    .addHelpText('after', '\nExamples:\n  sluice run jobs/clicks.js\n  sluice inspect ./ckpt --json\n  sluice state ./ckpt counts --prefix user- --limit 20\n  sluice query ./ckpt \'SELECT * FROM counts ORDER BY value DESC LIMIT 5\'\n  sluice check ./ckpt jobs/clicks.js');
  program.helpCommand(false);

  program
    .command('run')
    .description('runs the job a module exports (export default defineJob(...)) until SIGINT or SIGTERM, which stop it gracefully; a second signal stops it at once')
    .argument('<job-module>', 'the JavaScript module whose default export is the job')
    .option('--bounded', "runs over the sources' data to its end, as fast as possible, then stops (runToCompletion)")
    .option('--monitor <port>', 'serves the job\'s metrics (/metrics), dashboard and read-only API on this port while it runs (0: any free port; needs the optional peers prom-client and uplot)', parsePort)
    .option('--monitor-host <host>', 'the address the monitor binds to (default 127.0.0.1; another needs --monitor-token)')
    .option('--monitor-token <token>', 'the bearer token the monitor asks for (default: the environment\'s SLUICE_MONITOR_TOKEN)')
    .option('--workers <n>', 'runs the batches\' tasks on n worker threads, each of which loads the module and builds the same graph (default 0: on the one thread)', nonNegativeInteger)
    .option('--group <name>', 'runs as one instance of a group that splits the job\'s partitions (docs/scale-out.md; needs --partitions and sluice/nats\'s optional peers)')
    .option('--partitions <n>', 'with --group: how many partitions the job\'s input splits into', positiveInteger)
    .option('--member <id>', 'with --group: this instance\'s id, unique in the group and stable across restarts (default <hostname>-<pid>)')
    .option('--servers <urls>', 'with --group: the NATS servers, comma-separated (default 127.0.0.1:4222)')
    .option('--changelog <stream>', 'with --group: the changelog stream (default <group>_changelog)')
    .option('--lease-ms <ms>', 'with --group: how long a partition\'s lease lasts unrenewed (default 10000)', positiveInteger)
    .option('--checkpoint-dir <dir>', 'with --group: where the instance keeps a local checkpoint per partition (default the job\'s checkpoint directory)')
    .option('--standby <n>', 'with --group: standby replicas per partition: instances that keep a warm copy of its state and take it over first (default 0; give every instance the same)', nonNegativeInteger)
    .addHelpText('after', '\nExamples:\n  sluice run dist/jobs/clicks.js\n  sluice run dist/jobs/clicks.js --workers 3\n  sluice run dist/jobs/clicks.js --monitor 9464\n  sluice run dist/jobs/backfill.js --bounded\n  sluice run dist/jobs/orders.js --group orders --partitions 12 --member host-1 --standby 1')
    .action(async (module: string, options: RunOptions) => { exit(await runJob(module, options, io)); });

  program
    .command('inspect')
    .description("reports where a checkpoint stands: last committed and persisted batches, batches a restart replays, source offsets, watermark and every operator's state size; a running job's through its monitor")
    .argument('<checkpoint>', 'the checkpoint directory')
    .option('--json', 'prints the report as JSON')
    .option('--verify', "first verifies the whole checkpoint (every block checksum, every entry decoded); exits 1 with the first damage (a stopped job's only)")
    .option('--token <token>', TOKEN_HELP)
    .addHelpText('after', '\nExamples:\n  sluice inspect ./ckpt\n  sluice inspect ./ckpt --json --verify')
    .action(async (directory: string, options: InspectCommandOptions) => { exit(await inspectCommand(directory, options, io)); });

  program
    .command('state')
    .description("prints a stateful operator's committed state, read-only: from the checkpoint when its job is stopped, through the job's monitor when it runs")
    .argument('<checkpoint>', 'the checkpoint directory')
    .argument('<operator>', "the stateful operator's name (sluice inspect lists them)")
    .addOption(new Option('--key <key>', 'only this key: JSON (42, "42", ["card-1", 7]) or a plain string').conflicts('prefix'))
    .option('--prefix <prefix>', 'only keys that start with this string, or array keys that start with these parts (["card-1"])')
    .option('--limit <n>', 'at most this many entries (default 100)', positiveInteger)
    .option('--json', 'prints JSON')
    .option('--token <token>', TOKEN_HELP)
    .addHelpText('after', '\nExamples:\n  sluice state ./ckpt counts --key user-42\n  sluice state ./ckpt cards --prefix \'["card-1"]\' --limit 10 --json')
    .action(async (directory: string, operator: string, options: StateCommandOptions) => { exit(await stateCommand(directory, operator, options, io)); });

  program
    .command('query')
    .description("runs a read-only SQL query (one SELECT, DuckDB's dialect) over a job's committed state, each stateful operator a table named by its id: from the checkpoint when its job is stopped, through the job's monitor when it runs (needs the optional peer @duckdb/node-api)")
    .argument('<checkpoint>', 'the checkpoint directory')
    .argument('<sql>', 'the query, such as \'SELECT key, value FROM counts ORDER BY value DESC LIMIT 10\'')
    .option('--json', 'prints JSON: { batchId, columns, rows }')
    .option('--token <token>', TOKEN_HELP)
    .addHelpText('after', '\nExamples:\n  sluice query ./ckpt \'SELECT * FROM counts ORDER BY value DESC LIMIT 5\'\n  sluice query ./ckpt \'SELECT count(*) AS keys FROM "mapWithState#0"\' --json')
    .action(async (directory: string, sql: string, options: QueryCommandOptions) => { exit(await queryCommand(directory, sql, options, io)); });

  program
    .command('check')
    .description('the pre-deploy check: could the job a module exports restart from the checkpoint? Exits 0 if so, 1 if not (saying why)')
    .argument('<checkpoint>', "the checkpoint directory (a running job's is read through its monitor)")
    .argument('<job-module>', 'the JavaScript module whose default export is the new job')
    .option('--token <token>', TOKEN_HELP)
    .addHelpText('after', '\nExample:\n  sluice check /var/lib/clicks/ckpt dist/jobs/clicks.js && deploy')
    .action(async (directory: string, module: string, options: { token?: string }) => {
      exit(await checkCommand(directory, module, options, io));
    });
  return program;
}

function positiveInteger(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`give a positive integer, such as 20 (got '${text}').`);
  return n;
}

/** The count of `--workers`. @throws InvalidArgumentError for what is not a whole number. */
function nonNegativeInteger(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`give a whole number of worker threads, such as 3 (0 runs on the one thread; got '${text}').`);
  return n;
}

/** The port of `--monitor`. @throws InvalidArgumentError for what is not a port. */
function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65_535) throw new InvalidArgumentError(`give a port from 0 to 65535, such as 9464 (0 takes any free port; got '${text}').`);
  return n;
}
