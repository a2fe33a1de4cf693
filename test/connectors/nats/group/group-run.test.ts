import { afterEach, expect, it } from 'vitest';
import { runJob } from 'sluice';
import { createJobRun } from '../../../../core/internal.js';
import { NATS, NATS_URL, describeWith } from '../../../support/services.js';
import { GroupFixture, runningOn, waitFor, type Member } from './group-harness.js';

/*
 * A keyed job (a running count per key, fixtures/count-job.mjs) run by two instances in a group
 * over four partitions, as child processes on the local NATS server, with a fenced partitioned
 * JetStream sink. An instance killed with SIGKILL loses its partitions once their leases expire;
 * the other restores them from the changelog and replays them from their last commit; one
 * stopped with SIGTERM hands them over at once. Either way the output equals a run that never
 * crashed: every key's counts 1 .. n, each once.
 */

const PARTITIONS = 4;
const LEASE_MS = 1_500;

let fixture: GroupFixture | undefined;
afterEach(async () => {
  await fixture?.tearDown();
  fixture = undefined;
});

async function twoInstances(): Promise<{ f: GroupFixture; a: Member; b: Member }> {
  const f = new GroupFixture([NATS_URL], PARTITIONS, LEASE_MS);
  fixture = f;
  await f.setUp();
  const a = f.start('a');
  await waitFor(() => runningOn(a).size === PARTITIONS, 'a to run every partition');
  const b = f.start('b');
  await waitFor(() => runningOn(a).size === PARTITIONS / 2 && runningOn(b).size === PARTITIONS / 2, 'a and b to split the partitions');
  return { f, a, b };
}

await describeWith(NATS, 'a job run by a group of instances', () => {
  it('runJob refuses worker threads with a group, and createJobRun a group', async () => {
    const job = new URL('./fixtures/count-job.mjs', import.meta.url);
    await expect(runJob(job, { workers: 2, group: { name: 'g_x', partitions: 2, checkpointDir: '/tmp/none' } })).rejects.toThrow(/workers 0 or none with group/);
    await expect(createJobRun(job, { group: { name: 'g_x', partitions: 2 } } as never)).rejects.toThrow(/use runJob\(module, \{ group \}\)/);
  });

  it('an instance killed with SIGKILL: the other takes its partitions after the lease, from the changelog; nothing lost, nothing doubled', async () => {
    const { f, a, b } = await twoInstances();
    await f.publish(400);
    await waitFor(async () => (await f.stored()) >= 200, 'output before the kill');
    const moved = [...runningOn(a)];
    const output = f.firstOutputAfter(moved, await f.epochs());
    const killedAt = Date.now();
    a.job.child.kill('SIGKILL');
    const publishing = f.publish(400);
    await waitFor(() => moved.every((p) => runningOn(b).has(p)), 'b to take a\'s partitions over', 15_000);
    await publishing;
    await waitFor(async () => (await f.stored()) >= f.total, 'every output', 30_000);
    const firstOutput = await output.at;
    output.stop();
    const takeover = b.events.filter((e) => e.started !== undefined && moved.includes(e.started) && e.at >= killedAt);
    expect(takeover.map((e) => e.from)).toEqual(moved.map(() => 'changelog'));
    console.log(`SIGKILL handover: partitions ${moved.join(',')} started on b ${Math.max(...takeover.map((e) => e.at)) - killedAt} ms after the kill (lease ${LEASE_MS} ms), output again after ${firstOutput - killedAt} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await f.check()).toEqual([]);
    expect(await f.stored()).toBe(f.total);
  }, 90_000);

  it('an instance stopped with SIGTERM hands its partitions over after committing; the other restores them from the changelog', async () => {
    const { f, a, b } = await twoInstances();
    await f.publish(300);
    await waitFor(async () => (await f.stored()) >= 100, 'output before the stop');
    const moved = [...runningOn(a)];
    const stoppedAt = Date.now();
    a.job.child.kill('SIGTERM');
    const publishing = f.publish(300);
    await waitFor(() => moved.every((p) => runningOn(b).has(p)), 'b to take a\'s partitions over', 15_000);
    const exit = await a.job.exit;
    expect(exit.code).toBe(0);
    expect(a.events.filter((e) => e.stopped !== undefined && e.at >= stoppedAt).map((e) => e.reason)).toEqual(moved.map(() => 'revoked'));
    const takeover = b.events.filter((e) => e.started !== undefined && moved.includes(e.started) && e.at >= stoppedAt);
    console.log(`SIGTERM handover: partitions ${moved.join(',')} started on b ${Math.max(...takeover.map((e) => e.at)) - stoppedAt} ms after the signal`);
    expect(takeover.map((e) => e.from)).toEqual(moved.map(() => 'changelog'));
    await publishing;
    await waitFor(async () => (await f.stored()) >= f.total, 'every output', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await f.check()).toEqual([]);
    expect(await f.stored()).toBe(f.total);
  }, 90_000);

  it('split brain: an instance paused with SIGSTOP past its lease, then resumed, writes nothing more and hears PARTITION_LOST', async () => {
    const { f, a, b } = await twoInstances();
    await f.publish(200);
    await waitFor(async () => (await f.stored()) >= 100, 'output before the pause');
    const moved = [...runningOn(a)];
    a.job.child.kill('SIGSTOP');
    const pausedAt = Date.now();
    await f.publish(200);
    await waitFor(() => moved.every((p) => runningOn(b).has(p)), 'b to take a\'s partitions over', 15_000);
    a.job.child.kill('SIGCONT');
    await waitFor(() => moved.every((p) => !runningOn(a).has(p)), 'a to stop the partitions it lost', 15_000);
    const after = a.events.filter((e) => e.at >= pausedAt);
    for (const p of moved) expect(after.some((e) => (e.stopped === p && e.reason === 'lost') || (e.failed === p && e.error?.startsWith('PARTITION_LOST') === true))).toBe(true);
    expect(after.filter((e) => e.failed !== undefined).every((e) => e.error?.startsWith('PARTITION_LOST') === true)).toBe(true);
    await f.publish(200);
    await waitFor(async () => (await f.stored()) >= f.total, 'every output', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await f.check()).toEqual([]);
    expect(await f.stored()).toBe(f.total);
    // The instance goes on: it is still a member, and gets its share back.
    await waitFor(() => runningOn(a).size === PARTITIONS / 2 && runningOn(b).size === PARTITIONS / 2, 'the partitions to be split again', 20_000);
  }, 90_000);
});
