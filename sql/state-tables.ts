import { stateToJson, type OperatorStateView } from 'sluice/checkpoint';
import { isPlainObject, type Column, type SqlType } from './table-schema.js';

/** An operator's state as a table: its columns and one row object per entry. */
export interface StateTable {
  readonly name: string;
  readonly columns: readonly Column[];
  readonly rows: readonly Record<string, unknown>[];
}

/**
 * An operator's committed state as a table named by the operator (its `name`, or `kind#n`): a
 * column `key` (an array key as its JSON text); for an event-time window, `window_start` and
 * `window_end` (timestamps; `window_end` null for a pane); then, when every value is a plain
 * object (with no field named like one of those columns), one column per field, else one column
 * `value`. A column whose values are all strings,
 * numbers, bigints, booleans or dates gets that type; any other column holds each value's JSON
 * text (maps, sets, arrays, nested objects, mixed types), which DuckDB's JSON functions read.
 */
export function stateTable(view: OperatorStateView): StateTable {
  const windowed = view.entries.some((entry) => entry.window !== undefined);
  const reserved = windowed ? ['key', 'window_start', 'window_end'] : ['key'];
  // A value field named like a column of the key would hide it: such values stay whole, in `value`.
  const objects = spreadable(view.entries.map((entry) => entry.value), reserved);
  const rows = view.entries.map((entry) => {
    const row: Record<string, unknown> = { key: Array.isArray(entry.key) ? stateToJson(entry.key) : entry.key };
    if (windowed) {
      row['window_start'] = entry.window === undefined ? null : new Date(entry.window.start);
      row['window_end'] = entry.window?.end === undefined ? null : new Date(entry.window.end);
    }
    if (objects) Object.assign(row, entry.value);
    else row['value'] = entry.value;
    return row;
  });
  return rowsTable(view.operator, rows, ['key', 'value']);
}

/**
 * The table of `rows` (objects, which it may change: values of a VARCHAR column that are not
 * strings become their JSON text): every field in the order first seen (`empty`'s when there is
 * none), each typed as {@link columnType} says.
 */
export function rowsTable(name: string, rows: Record<string, unknown>[], empty: readonly string[]): StateTable {
  const names = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  if (names.length === 0) names.push(...empty);
  const columns = names.map((column) => ({ name: column, type: columnType(rows, column) }));
  for (const { name: column, type } of columns) {
    if (type !== 'VARCHAR') continue;
    for (const row of rows) {
      const value = row[column];
      if (value !== null && value !== undefined && typeof value !== 'string') row[column] = stateToJson(value);
    }
  }
  return { name, columns, rows };
}

/** Whether every value is a plain object without a field named like one of `reserved` (its fields can then be columns beside those). */
export function spreadable(values: readonly unknown[], reserved: readonly string[]): boolean {
  return values.length > 0 && values.every((value) => isPlainObject(value) && !reserved.some((name) => Object.hasOwn(value, name)));
}

/** The one SQL type every value of a column has, else VARCHAR (JSON text). */
function columnType(rows: readonly Record<string, unknown>[], name: string): SqlType {
  let type: SqlType | undefined;
  for (const row of rows) {
    const value = row[name];
    if (value === null || value === undefined) continue;
    const own = typeOf(value);
    if (type !== undefined && own !== type) return 'VARCHAR';
    type = own;
  }
  return type ?? 'VARCHAR';
}

function typeOf(value: unknown): SqlType {
  if (typeof value === 'number') return 'DOUBLE';
  if (typeof value === 'boolean') return 'BOOLEAN';
  if (typeof value === 'bigint') return value >= -(2n ** 63n) && value < 2n ** 63n ? 'BIGINT' : 'VARCHAR';
  if (value instanceof Date && !Number.isNaN(value.getTime())) return 'TIMESTAMP';
  return 'VARCHAR';
}
