import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { messageOf } from '../core/internal.js';
import { SluiceError } from 'sluice';
import { formatInspection, inspectCheckpoint } from './inspect.js';

const USAGE = [
  'Usage: sluice inspect <checkpoint-directory> [--json] [--verify]',
  '       sluice --version',
  '',
  '  inspect   reports where a checkpoint stands: last committed and persisted batches, batches a',
  '            restart replays, source offsets, watermark and the state size of every operator.',
  '            The checkpoint must not be in use by a running context.',
  '  --json    prints the report as JSON.',
  '  --verify  first verifies the whole checkpoint: every block checksum of its LevelDB files,',
  '            then every entry, read and decoded. Exits 1 with the first damage (file, key).',
].join('\n');

/**
 * The `sluice` command: `sluice inspect <dir> [--json] [--verify]`, `sluice --version`.
 *
 * @param argv - the arguments after the command name.
 * @param out - where the report (and usage) goes, one line or block per call.
 * @param err - where error messages go (default: `out`).
 * @returns the exit code: 0 on success, 1 on an error or bad arguments.
 */
export async function main(argv: readonly string[], out: (line: string) => void, err: (line: string) => void = out): Promise<number> {
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    out(USAGE);
    return 0;
  }
  if (argv[0] === '--version' || argv[0] === '-v') {
    out(await packageVersion());
    return 0;
  }
  const parsed = parse(argv);
  if (typeof parsed === 'string') {
    err(`sluice: ${parsed}.`);
    err(USAGE);
    return 1;
  }
  try {
    const info = await inspectCheckpoint(parsed.directory, { verify: parsed.verify });
    // null rather than a missing key for what the checkpoint does not have yet: a stable shape.
    out(parsed.json ? JSON.stringify(info, (_key, value: unknown) => value ?? null, 2) : formatInspection(info));
    return 0;
  } catch (error) {
    err(`sluice inspect: ${error instanceof SluiceError ? `${error.code}: ` : ''}${messageOf(error)}`);
    return 1;
  }
}

/** The arguments of `inspect`, or what is wrong with them. */
function parse(argv: readonly string[]): { readonly directory: string; readonly json: boolean; readonly verify: boolean } | string {
  const [command, ...rest] = argv;
  if (command === undefined) return 'missing command';
  if (command !== 'inspect') return `unknown command '${command}'`;
  const options = ['--json', '--verify'];
  const unknown = rest.find((arg) => arg.startsWith('-') && !options.includes(arg));
  if (unknown !== undefined) return `unknown option '${unknown}'`;
  const operands = rest.filter((arg) => !options.includes(arg));
  if (operands.length !== 1) return operands.length === 0 ? 'inspect needs the checkpoint directory' : `inspect takes one directory, got ${operands.length}`;
  return { directory: operands[0] as string, json: rest.includes('--json'), verify: rest.includes('--verify') };
}

/** The version in Sluice's own package.json, found upwards from this module (in `dist/` or not). */
async function packageVersion(): Promise<string> {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === 'sluice' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // no package.json here: look further up
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}
