import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock, type JobDefinition } from 'sluice';
import { inspectContext, inspectionJson } from 'sluice/checkpoint';
import { useTempDirs } from '../support/temp-dir.js';
import { cli, fixture, sluice, standInMonitor } from './cli-harness.js';

const tempDir = useTempDirs('sluice-cli-');

describe('sluice check', () => {
  it('exits 0 for a job that can restart from the checkpoint, 1 (saying why) for one that cannot, writing nothing', async () => {
    const dir = await tempDir();
    const env = { SLUICE_TEST_DIR: dir, SLUICE_TEST_ROWS: '30' };
    expect((await sluice(['run', fixture('counting-job.mjs'), '--bounded'], env)).code).toBe(0);
    const before = (await sluice(['inspect', join(dir, 'ckpt'), '--json'])).out;

    const same = await sluice(['check', join(dir, 'ckpt'), fixture('counting-job.mjs')], env);
    expect(same).toMatchObject({ code: 0, stderr: '' });
    expect(same.out).toBe(
      [
        `compatible: ${fixture('counting-job.mjs')} can restart from the checkpoint at ${join(dir, 'ckpt')}.`,
        '  keeps the state of:     counts',
        '  starts empty:           none',
        '  drops the state of:     none',
        '  migrates the state of:  none',
      ].join('\n'),
    );
    const renamed = await sluice(['check', join(dir, 'ckpt'), fixture('counting-job.mjs')], { ...env, SLUICE_TEST_NAME: 'totals' });
    expect(renamed).toMatchObject({ code: 1, stderr: '' });
    expect(renamed.out).toMatch(/^not compatible: .*counting-job\.mjs cannot restart from the checkpoint at .*: it holds the state of the stateful operator 'counts' \(updateStateByKey\), which the program no longer has\. To drop that state, restart with the option dropState: \['counts'\]/);
    expect((await sluice(['inspect', join(dir, 'ckpt'), '--json'])).out).toBe(before);
  });

  it("checks a running job's checkpoint through its monitor (the fingerprint of /api/checkpoint)", async () => {
    const dir = await tempDir();
    process.env.SLUICE_TEST_DIR = dir;
    const job = ((await import(`../../${fixture('counting-job.mjs')}?dir=${encodeURIComponent(dir)}`)) as { default: JobDefinition }).default;
    delete process.env.SLUICE_TEST_DIR;
    const clock = new ManualClock();
    const ctx = await job.create({ clock });
    await ctx.start();
    await clock.advance(300);
    const monitor = await standInMonitor(join(dir, 'ckpt'), undefined, async () => inspectionJson(await inspectContext(ctx)));
    try {
      const same = await sluice(['check', join(dir, 'ckpt'), fixture('counting-job.mjs')], { SLUICE_TEST_DIR: dir });
      expect(same).toMatchObject({ code: 0, stderr: '' });
      expect(same.out).toMatch(/^compatible: .*\n {2}keeps the state of: {5}counts\n/);
      const renamed = await sluice(['check', join(dir, 'ckpt'), fixture('counting-job.mjs')], { SLUICE_TEST_DIR: dir, SLUICE_TEST_NAME: 'totals' });
      expect(renamed).toMatchObject({ code: 1, out: expect.stringMatching(/^not compatible: .*the stateful operator 'counts' \(updateStateByKey\), which the program no longer has/) as unknown });
      expect(monitor.requests).toEqual(['/api/checkpoint', '/api/checkpoint']);
    } finally {
      await monitor.close();
      await ctx.stop();
    }
  });

  it('exits 2 for a module that is missing or exports no job, 1 for a directory without a checkpoint', async () => {
    const dir = await tempDir();
    expect(await cli(['check', dir, 'jobs/none.mjs'])).toMatchObject({ code: 2, err: expect.stringMatching(/^sluice check: the job module jobs\/none\.mjs does not exist/) as unknown });
    expect(await cli(['check', dir])).toMatchObject({ code: 2, err: expect.stringMatching(/^error: missing required argument 'job-module'/) as unknown });
    expect(await cli(['check', join(dir, 'nothing'), fixture('not-a-job.mjs')])).toMatchObject({ code: 2, err: expect.stringMatching(/exports by default a StreamingContext; it must export default defineJob/) as unknown });
    expect(await sluice(['check', join(dir, 'nothing'), fixture('counting-job.mjs')], { SLUICE_TEST_DIR: dir })).toMatchObject({ code: 1, stderr: expect.stringMatching(/^sluice check: CHECKPOINT_UNAVAILABLE: There is no checkpoint at .*nothing: no such directory/) as unknown });
  });
});
