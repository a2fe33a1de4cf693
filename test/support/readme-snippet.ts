import { readFile } from 'node:fs/promises';
import ts from 'typescript';

/**
 * The first `ts` code block of README.md after the text `after` (a heading or a bullet's bold
 * name, such as `'**Redis**'`), without its import lines, compiled to JavaScript: what a test
 * runs, with `new Function`, to show that the README's snippet works as written.
 *
 * @param rename - replacements of literal text in the snippet (its names of streams, tables,
 * keys), so that the test uses names of its own; each must occur, or the snippet changed under
 * the test.
 */
export async function readmeSnippet(after: string, rename: readonly (readonly [string, string])[] = []): Promise<string> {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf(after);
  const block = start < 0 ? undefined : /```ts\n([\s\S]*?)```/.exec(readme.slice(start))?.[1];
  if (block === undefined) throw new Error(`README.md has no ts block after "${after}".`);
  let code = block.replace(/^\s*import .*\n/gm, '');
  for (const [from, to] of rename) {
    if (!code.includes(from)) throw new Error(`README.md's snippet after "${after}" no longer holds ${from}; update its test.`);
    code = code.replaceAll(from, to);
  }
  return ts.transpileModule(code, { compilerOptions: { target: ts.ScriptTarget.ES2022 } }).outputText;
}
