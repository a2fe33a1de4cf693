import { stateToJson } from 'sluice/checkpoint';
import type { LastResult } from 'sluice/extend';
import { rowsTable, spreadable, type StateTable } from './state-tables.js';

/**
 * A window's last results as a table named by the operator's id, a row per record it emitted, in
 * emission order: `batch_time` (a timestamp: the batch that emitted them); then by the records'
 * shape:
 *
 * - a batch-time window's records (`window`, `reduceByWindow`, `countByWindow`): the record's
 *   fields when every record is a plain object, else one column `value`;
 * - keyed batch-time windows' `[key, value]` pairs (`reduceByKeyAndWindow`,
 *   `countByValueAndWindow`, `groupByKeyAndWindow`): `key` (an array key as its JSON text), then
 *   the value's fields or `value`;
 * - event-time windows' results (`eventTimeWindow`, `windowJoin`): `key`, `window_start`,
 *   `window_end` (timestamps), then the value's fields or `value`; when the batch held session
 *   retractions, a column `retracted` (true for them, their value columns null).
 *
 * Column types and JSON text as for state tables ({@link stateTable}). Before the window has
 * emitted anything the table is there, empty.
 */
export function resultTable(result: LastResult): StateTable {
  const records = result.records?.partitions.flat() ?? [];
  const batchTime = result.batchTime === undefined ? null : new Date(result.batchTime);
  switch (result.shape) {
    case 'records': {
      const fields = spreadable(records, ['batch_time']);
      const rows = records.map((record) => ({ batch_time: batchTime, ...(fields ? (record as object) : { value: record }) }));
      return rowsTable(result.operator, rows, ['batch_time', 'value']);
    }
    case 'pairs': {
      const pairs = records as readonly (readonly [unknown, unknown])[];
      const fields = spreadable(
        pairs.map((pair) => pair[1]),
        ['batch_time', 'key'],
      );
      const rows = pairs.map(([key, value]) => ({ batch_time: batchTime, key: keyText(key), ...(fields ? (value as object) : { value }) }));
      return rowsTable(result.operator, rows, ['batch_time', 'key', 'value']);
    }
    case 'keyedWindows': {
      const windowed = records as readonly { readonly key: unknown; readonly window: { readonly start: number; readonly end: number }; readonly value?: unknown; readonly retracted?: true }[];
      const retractions = windowed.some((record) => record.retracted === true);
      const reserved = ['batch_time', 'key', 'window_start', 'window_end', ...(retractions ? ['retracted'] : [])];
      const fields = spreadable(
        windowed.filter((record) => record.retracted !== true).map((record) => record.value),
        reserved,
      );
      const rows = windowed.map((record) => {
        const row: Record<string, unknown> = { batch_time: batchTime, key: keyText(record.key), window_start: new Date(record.window.start), window_end: new Date(record.window.end) };
        if (retractions) row['retracted'] = record.retracted === true;
        if (record.retracted !== true) Object.assign(row, fields ? record.value : { value: record.value });
        return row;
      });
      return rowsTable(result.operator, rows, ['batch_time', 'key', 'window_start', 'window_end', 'value']);
    }
  }
}

function keyText(key: unknown): unknown {
  return Array.isArray(key) ? stateToJson(key) : key;
}
