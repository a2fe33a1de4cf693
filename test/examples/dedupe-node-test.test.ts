import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/*
 * examples/testing/dedupe.node-test.ts is the node:test version of the worked example of
 * docs/testing-your-operators.md. It runs as a user would run it: compiled (dist/, the `sluice`
 * self-reference resolving there), under `node --test`; test/global-setup.ts builds dist/ when
 * it is missing or older than a source.
 */

const repo = fileURLToPath(new URL('../../', import.meta.url));
const compiled = join(repo, 'dist/examples/testing/dedupe.node-test.js');
const run = promisify(execFile);

describe('the node:test version of the dedupe example', () => {
  it('passes under node --test', async () => {
    const result = await run(process.execPath, ['--test', '--test-reporter=tap', compiled], { cwd: repo, timeout: 60_000 }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: unknown) => {
        const { code = -1, stdout = '', stderr = '' } = error as { code?: number; stdout?: string; stderr?: string };
        return { code, stdout: stdout + stderr };
      },
    );
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/^# pass 1$/m);
    expect(result.stdout).toMatch(/^# fail 0$/m);
  });
});
