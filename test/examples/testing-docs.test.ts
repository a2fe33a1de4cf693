import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const read = (path: string): Promise<string> => readFile(new URL(path, root), 'utf8');

describe('docs/testing-your-operators.md', () => {
  it('shows the example files as they are, and no TypeScript that no test runs', async () => {
    const page = await read('docs/testing-your-operators.md');
    const blocks = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    const files = await Promise.all(['examples/testing/dedupe.ts', 'test/examples/dedupe-vitest.test.ts', 'examples/testing/dedupe.node-test.ts'].map(read));
    // The TestStream example is one test of the kit's own suite; each example of "Generators and
    // laws, one by one" is a piece of the kit's docs-snippets tests.
    const suite = await read('test/kit-tests/test-stream.test.ts');
    const snippets = await read('test/kit-tests/docs-snippets.test.ts');
    expect(blocks.slice(0, 3)).toEqual(files);
    expect(blocks).toHaveLength(23);
    expect(suite).toContain(`\n${blocks[3]!}`);
    for (const block of blocks.slice(4)) expect(snippets).toContain(`\n${block!}`);
  });

  it('is linked from the README', async () => {
    expect(await read('README.md')).toContain('(docs/testing-your-operators.md)');
  });
});
