import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll } from 'vitest';
import { POSTGRES_URL } from '../../support/services.js';

/*
 * A pool on the test database for the PostgreSQL suites, and random table names they drop after
 * the file: suites never share a table, and leave none behind.
 */

let pool: pg.Pool | undefined;
const tables = new Set<string>();

/** The suite's pool (one per test file), ended after the file. */
export function testPool(): pg.Pool {
  pool ??= new pg.Pool({ connectionString: POSTGRES_URL, max: 4 });
  return pool;
}

/** A fresh table name (`sluice_test_<prefix>_<random>`), dropped after the file. */
export function tableName(prefix: string): string {
  const name = `sluice_test_${prefix}_${randomBytes(5).toString('hex')}`;
  tables.add(name);
  return name;
}

/** Drops `table` after the file (a table a child process creates). */
export function dropAfterFile(table: string): void {
  tables.add(table);
}

/** The rows of `table` as plain objects, ordered by `orderBy`. */
export async function rowsOf(table: string, orderBy: string): Promise<Record<string, unknown>[]> {
  return (await testPool().query(`SELECT * FROM "${table}" ORDER BY ${orderBy}`)).rows as Record<string, unknown>[];
}

afterAll(async () => {
  if (pool === undefined) return;
  for (const table of tables) await pool.query(`DROP TABLE IF EXISTS "${table}"`);
  await pool.end();
  pool = undefined;
});
