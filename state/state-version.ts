import { SluiceError } from 'sluice';
import { messageOf } from '../core/internal.js';
import { checkStateValue } from './value-codec.js';

/**
 * Brings a state value stored at an older state version to the operator's: `old` is the stored
 * value, `fromVersion` the version that wrote it (1 for values written before versions were
 * declared). It returns the value at the current version, and must not change `old`.
 */
export type MigrateFunction = (old: unknown, fromVersion: number) => unknown;

/** An operator's state version and how older values reach it. */
export interface StateVersioning {
  readonly version: number;
  readonly migrate: MigrateFunction | undefined;
}

/** Version 1: what every operator that declares none has. */
export const FIRST_VERSION: StateVersioning = Object.freeze({ version: 1, migrate: undefined });

/**
 * Checks an operator's `version` and `migrate` options.
 *
 * @throws RangeError when `version` is not an integer of 1 or more; TypeError when a version above
 * 1 comes without a `migrate` function (values of older versions could not be read).
 */
export function checkVersioning(where: string, version: unknown, migrate: unknown): StateVersioning {
  if (version === undefined && migrate === undefined) return FIRST_VERSION;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new RangeError(`${where}: the state version must be an integer of 1 or more, got ${String(version)}.`);
  }
  if (migrate !== undefined && typeof migrate !== 'function') throw new TypeError(`${where}: migrate must be a function (old, fromVersion) => value.`);
  if (version > 1 && migrate === undefined) {
    throw new TypeError(`${where}: state version ${version} needs a migrate function (old, fromVersion) => value, to read the values older versions wrote.`);
  }
  return { version, migrate: migrate as MigrateFunction | undefined };
}

/**
 * `value`, stored at version `from`, at the operator's version.
 *
 * @throws SluiceError `STATE_MIGRATION_FAILED` naming the operator and the key when `migrate`
 * throws or returns what cannot be stored, or when `from` is newer than the operator's version.
 */
export function migrateValue(versioning: StateVersioning, value: unknown, from: number, operator: string, key: string): unknown {
  if (from === versioning.version) return value;
  const failed = (why: string, cause?: unknown): SluiceError =>
    new SluiceError('STATE_MIGRATION_FAILED', `${operator} cannot migrate the state of key ${key} from version ${from} to ${versioning.version}: ${why}.`, { operator, ...(cause === undefined ? {} : { cause }) });
  if (from > versioning.version || versioning.migrate === undefined) throw failed(`the value was written by version ${from}, newer than this program's`);
  let next: unknown;
  try {
    next = versioning.migrate(value, from);
    checkStateValue(next, 'migrated state value');
  } catch (error) {
    throw failed(messageOf(error), error);
  }
  if (next === undefined) throw failed('migrate returned undefined');
  return next;
}
