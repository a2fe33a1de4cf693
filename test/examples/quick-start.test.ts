import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';

const root = new URL('../../', import.meta.url);

describe("README's quick start", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('is the same program as examples/quick-start/main.ts', async () => {
    const readme = await readFile(new URL('README.md', root), 'utf8');
    const program = await readFile(new URL('examples/quick-start/main.ts', root), 'utf8');
    const block = /## Quick start[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(program);
  });

  it('runs as written and prints the word counts of each batch', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    await import('../../examples/quick-start/main.js');
    const counts = (line: string | undefined) => new Set(line?.replace(/^batch \d+: /, '').split(' '));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^batch 0: /);
    expect(counts(lines[0])).toEqual(new Set(['the=2', 'quick=1', 'brown=1', 'fox=1', 'jumps=1', 'over=1', 'lazy=1', 'dog=1']));
    expect(counts(lines[1])).toEqual(new Set(['the=2', 'dog=1', 'barks=1', 'fox=1', 'runs=1']));
    expect(lines[2]).toBe('done');
  });
});
