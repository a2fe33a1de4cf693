import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from 'sluice';

/** The rows of the table under "## Codes" in docs/errors.md: `| \`CODE\` | when | what to do |`. */
async function documentedCodes(): Promise<Map<string, { readonly when: string; readonly todo: string }>> {
  const page = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const section = page.split(/^## /m).find((part) => part.startsWith('Codes\n'));
  if (section === undefined) throw new Error('docs/errors.md has no "## Codes" section');
  const rows = new Map<string, { when: string; todo: string }>();
  for (const line of section.split('\n')) {
    const cells = /^\|(.*)\|\s*$/.exec(line)?.[1]?.split(' | ').map((cell) => cell.trim());
    const code = cells?.[0] === undefined ? undefined : /^`([A-Z_]+)`$/.exec(cells[0])?.[1];
    if (cells === undefined || code === undefined) continue;
    expect(rows.has(code), `${code} has two rows`).toBe(false);
    expect(cells, `the row of ${code} has a code, a "when" and a "what to do" cell`).toHaveLength(3);
    rows.set(code, { when: cells[1] ?? '', todo: cells[2] ?? '' });
  }
  return rows;
}

describe('docs/errors.md', () => {
  it('lists exactly the codes of ERROR_CODES: none missing, none extra', async () => {
    const documented = [...(await documentedCodes()).keys()].sort();
    const codes = Object.keys(ERROR_CODES).sort();
    expect(codes.filter((code) => !documented.includes(code)), 'codes in ERROR_CODES without a row in docs/errors.md').toEqual([]);
    expect(documented.filter((code) => !codes.includes(code)), 'rows in docs/errors.md for codes not in ERROR_CODES').toEqual([]);
  });

  it('says for every code what causes it and what to do', async () => {
    for (const [code, row] of await documentedCodes()) {
      expect(row.when, `the "when" of ${code}`).not.toBe('');
      expect(row.todo, `the "what to do" of ${code}`).not.toBe('');
    }
    for (const [code, description] of Object.entries(ERROR_CODES)) expect(description, `ERROR_CODES.${code}`).not.toBe('');
  });
});
