import type { Key, KeyPart, StreamingContext } from 'sluice';
import { StatefulDStream } from 'sluice/extend';
import { queryableState, type KeyedStateStream } from 'sluice/state';

/** The most entries one state query gives; `limit` defaults to {@link DEFAULT_STATE_LIMIT}. */
export const MAX_STATE_LIMIT = 10_000;
export const DEFAULT_STATE_LIMIT = 100;

/** What `GET /api/state/<operator>` answers. */
export interface StateAnswer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * Reads a key argument of the state API (`key=`, `prefix=`): the JSON number, string or array it
 * spells, or else the raw text (`key=card-1` and `key="card-1"` are the same key; `key=42` is the
 * number, `key="42"` the string; `prefix=["card-1"]` an array prefix).
 */
export function parseKeyArgument(text: string): Key {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'number' || typeof value === 'string' || Array.isArray(value)) return value as Key;
  } catch {
    // Not JSON: the raw text is the key.
  }
  return text;
}

/**
 * Answers a read of `operator`'s committed state: one key (`key`), the keys starting with a
 * prefix (`prefix`, an array of key parts; a single part is taken as a one-part prefix), or every
 * key, at most `limit` (default 100, at most 10,000), in key order.
 */
export async function queryState(ctx: StreamingContext, operator: string, query: URLSearchParams): Promise<StateAnswer> {
  const operators = ctx.graph.nodes.filter((node): node is StatefulDStream<unknown> => node instanceof StatefulDStream);
  const node = operators.find((o) => o.describe === operator);
  if (node === undefined) {
    const known = operators.map((o) => o.describe);
    return { status: 404, body: { error: `No stateful operator is named '${operator}'${known.length === 0 ? '; this job has none' : `; the job has: ${known.join(', ')}`}.`, operators: known } };
  }
  const limitText = query.get('limit');
  const limit = limitText === null ? DEFAULT_STATE_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_STATE_LIMIT) {
    return { status: 400, body: { error: `limit=${limitText ?? ''} is not a whole number from 1 to ${MAX_STATE_LIMIT}.` } };
  }
  const key = query.get('key');
  const prefix = query.get('prefix');
  if (key !== null && prefix !== null) return { status: 400, body: { error: 'Give key= or prefix=, not both.' } };
  if (ctx.state === 'initialized') return { status: 503, body: { error: 'The job has not started yet; its state can be read once it runs.' } };
  const state = queryableState(node as unknown as KeyedStateStream<unknown, Key, unknown>);
  try {
    if (key !== null) {
      const found = await state.get(parseKeyArgument(key));
      return { status: 200, body: { operator, entries: found === undefined ? [] : [{ key: parseKeyArgument(key), state: found }], more: false } };
    }
    const parts = prefix === null ? undefined : parseKeyArgument(prefix);
    const entries: { key: Key; state: unknown }[] = [];
    let more = false;
    for await (const [k, s] of state.entries(parts === undefined ? {} : { prefix: (Array.isArray(parts) ? parts : [parts]) as KeyPart[] })) {
      if (entries.length === limit) {
        more = true;
        break;
      }
      entries.push({ key: k, state: s });
    }
    return { status: 200, body: { operator, entries, more } };
  } catch (error) {
    if (error instanceof TypeError) return { status: 400, body: { error: error.message } };
    return { status: 503, body: { error: `The state of ${operator} cannot be read now: ${(error as Error).message}` } };
  }
}

/** `JSON.stringify`'s replacer for state: bigints as strings, maps and sets as arrays, so every state has an answer. */
export function stateReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Map) return [...value];
  if (value instanceof Set) return [...value];
  return value;
}
