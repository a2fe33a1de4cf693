/** A PostgreSQL identifier quoted: `"name"`, inner quotes doubled. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * A table name as the user wrote it (`'alerts'` or `'analytics.alerts'`), quoted part by part;
 * a name that is not one or two parts separated by a dot is a TypeError.
 *
 * @throws TypeError for an empty name or one with more than two parts.
 */
export function quoteTableName(what: string, table: unknown): string {
  if (typeof table !== 'string' || table === '') throw new TypeError(`${what}: table must be a non-empty table name such as 'alerts' or 'analytics.alerts'.`);
  const parts = table.split('.');
  if (parts.length > 2 || parts.some((part) => part === '')) {
    throw new TypeError(`${what}: table '${table}' is not a table name; give 'table' or 'schema.table' (each part is quoted as written, so case matters).`);
  }
  return parts.map(quoteIdentifier).join('.');
}
