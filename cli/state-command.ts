import type { Key, KeyPart } from 'sluice';
import { encodeKey, encodeKeyPrefix } from 'sluice/extend';
import { messageOf } from '../core/internal.js';
import { parseKeyArgument, readCheckpointState, stateToJson, type OperatorStateView } from 'sluice/checkpoint';
import { isLocked } from '../checkpoint/internal.js';
import { EXIT, UsageError, type CliIo } from './cli-io.js';
import { fetchFromMonitor } from './monitor-client.js';

/** Options of `sluice state`, as given on the command line. */
export interface StateCommandOptions {
  readonly key?: string;
  readonly prefix?: string;
  readonly limit?: number;
  readonly json?: boolean;
  readonly token?: string;
}

/**
 * `sluice state <checkpoint> <operator> [--key K | --prefix P] [--limit N] [--json]`: an operator's
 * committed state, read-only: from the checkpoint when its job is stopped, through the job's
 * monitor (`GET /api/state/<operator>`) when it runs.
 *
 * @returns the exit status (1 for an unknown operator, the message listing the operators).
 */
export async function stateCommand(directory: string, operator: string, options: StateCommandOptions, io: CliIo): Promise<number> {
  const key = options.key === undefined ? undefined : keyOf(options.key);
  const prefix = options.prefix === undefined ? undefined : prefixOf(options.prefix);
  let view: unknown;
  try {
    view = await readCheckpointState(directory, operator, {
      ...(key === undefined ? {} : { key }),
      ...(prefix === undefined ? {} : { prefix }),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
    });
  } catch (error) {
    if (!isLocked(error)) throw error;
    const query = new URLSearchParams();
    if (options.key !== undefined) query.set('key', options.key);
    if (options.prefix !== undefined) query.set('prefix', options.prefix);
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    const search = query.size === 0 ? '' : `?${query.toString()}`;
    view = await fetchFromMonitor(directory, `/api/state/${encodeURIComponent(operator)}${search}`, { token: options.token ?? io.env?.SLUICE_MONITOR_TOKEN });
  }
  io.out(options.json === true || !isStateView(view) ? stateToJson(view, 2) : formatState(view));
  return EXIT.ok;
}

/** The key `--key` gives. @throws UsageError for what is not a key. */
function keyOf(text: string): Key {
  const key = parseKeyArgument(text);
  try {
    encodeKey(key);
  } catch (error) {
    throw new UsageError(`--key ${text} is not a key: ${messageOf(error)}`);
  }
  return key;
}

/** The prefix `--prefix` gives. @throws UsageError for a number or what is not an array of key parts. */
function prefixOf(text: string): string | KeyPart[] {
  const prefix = parseKeyArgument(text);
  if (typeof prefix === 'number') throw new UsageError(`--prefix ${text}: a prefix is a string or an array of key parts; for the string, give '"${text}"'.`);
  if (typeof prefix === 'string') return prefix;
  try {
    encodeKeyPrefix(prefix as KeyPart[]);
  } catch (error) {
    throw new UsageError(`--prefix ${text} is not an array of key parts: ${messageOf(error)}`);
  }
  return prefix as KeyPart[];
}

/**
 * An operator's state as text: a header, then a line per entry, its key and value as JSON.
 *
 * @example
 * counts (updateStateByKey) at batch 7: 2 entries
 *   "user-1" = 4
 *   "user-2" = 3
 */
export function formatState(view: OperatorStateView): string {
  const at = view.batchId === undefined || view.batchId === null ? 'before its first persisted batch' : `at batch ${view.batchId}`;
  const lines = [`${view.operator} (${view.kind}) ${at}: ${view.entries.length} ${view.entries.length === 1 ? 'entry' : 'entries'}${view.more ? ' (more match: raise --limit, or narrow with --key or --prefix)' : ''}`];
  for (const entry of view.entries) {
    const window = entry.window === undefined ? '' : entry.window.end === undefined ? ` pane from ${entry.window.start}` : ` [${entry.window.start}, ${entry.window.end})`;
    lines.push(`  ${stateToJson(entry.key)}${window} = ${stateToJson(entry.value)}`);
  }
  return lines.join('\n');
}

function isStateView(value: unknown): value is OperatorStateView {
  const v = value as Partial<OperatorStateView> | null;
  return typeof v === 'object' && v !== null && typeof v.operator === 'string' && typeof v.kind === 'string' && Array.isArray(v.entries);
}
