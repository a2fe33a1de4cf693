import { afterEach, expect, it } from 'vitest';
import { sluice, startSluice } from '../../../cli/cli-harness.js';
import { NATS, NATS_URL, describeWith } from '../../../support/services.js';
import { useTempDirs } from '../../../support/temp-dir.js';
import { GroupFixture, waitFor } from './group-harness.js';

/*
 * `sluice run --group`: the built CLI runs the counting job as one instance of a group, prints a
 * line per partition started and stopped, and on SIGTERM hands its partitions over and exits 0.
 */

const JOB = 'test/connectors/nats/group/fixtures/count-job.mjs';
const tempDir = useTempDirs('sluice-group-cli-');
let fixture: GroupFixture | undefined;
afterEach(async () => {
  await fixture?.tearDown();
  fixture = undefined;
});

await describeWith(NATS, 'sluice run --group', () => {
  it('runs the partitions it owns, one line each, and hands them over on SIGTERM', async () => {
    const f = new GroupFixture([NATS_URL], 2, 1_500);
    fixture = f;
    await f.setUp();
    const dir = await tempDir();
    const run = startSluice(['run', JOB, '--group', f.group, '--partitions', '2', '--member', 'cli-1', '--lease-ms', '1500', '--checkpoint-dir', dir, '--changelog', f.changelog, '--servers', NATS_URL], f.env);
    await waitFor(() => run.stdout.filter((l) => / started, fresh/.test(l)).length === 2, 'both partitions to start');
    expect(run.stdout).toContain(`sluice run: member cli-1 joined group ${f.group}`);
    await f.publish(60, 6);
    await waitFor(async () => (await f.stored()) === 60, 'the outputs');
    run.child.kill('SIGTERM');
    const exit = await run.exit;
    expect(exit.code).toBe(0);
    expect(exit.stdout.filter((l) => l.includes('stopped (handed over)'))).toHaveLength(2);
    expect(exit.stdout.at(-1)).toBe(`sluice run: member cli-1 left group ${f.group}`);
    expect(await f.check()).toEqual([]);
  }, 60_000);

  it('refuses --group without --partitions', async () => {
    const exit = await sluice(['run', JOB, '--group', 'g_none']);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(/--group needs --partitions/);
  });
});
