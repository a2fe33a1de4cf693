import { afterEach, expect, it } from 'vitest';
import { NATS_URL, NATS, describeWith } from '../../../support/services.js';
import { GroupFixture, runningOn, waitFor, type Member } from './group-harness.js';

/*
 * Failover with and without standby replicas, measured: two instances of the counting job over
 * four partitions with a large state (many keys, so reading a partition's whole changelog costs);
 * one is killed with SIGKILL. With `standbyReplicas: 1` the survivor stood by for the dead one's
 * partitions, and restores each from its warm copy plus the changelog's tail ('standby', few
 * messages read); without, from the whole changelog. Either way the output is exactly once.
 * SLUICE_STANDBY_KEYS sets the number of keys (default 6 000; docs/scale-out.md's figures used more).
 */

const PARTITIONS = 4;
const LEASE_MS = 1_500;
const KEYS = Number(process.env.SLUICE_STANDBY_KEYS ?? 6_000);

let fixture: GroupFixture | undefined;
afterEach(async () => {
  await fixture?.tearDown();
  fixture = undefined;
});

async function failover(standby: number): Promise<{ f: GroupFixture; a: Member; b: Member; moved: number[]; startedAfter: number; outputAfter: number }> {
  const f = new GroupFixture([NATS_URL], PARTITIONS, LEASE_MS, { standby, maxBatch: 4_000 });
  fixture = f;
  await f.setUp();
  const a = f.start('a');
  await waitFor(() => runningOn(a).size === PARTITIONS, 'a to run every partition');
  const b = f.start('b');
  await waitFor(() => runningOn(a).size === PARTITIONS / 2 && runningOn(b).size === PARTITIONS / 2, 'a and b to split the partitions').catch(async (e: unknown) => { b.job.child.kill('SIGKILL'); console.log(JSON.stringify(b.events), (await b.job.exit).stderr); throw e; });
  await f.publishWide(KEYS);
  await f.publish(200);
  await waitFor(async () => (await f.stored()) >= f.total, 'the output of the large state', 60_000);
  const moved = [...runningOn(a)];
  if (standby > 0) await waitFor(() => moved.every((p) => b.events.some((e) => e.standby === p)), 'b to stand by for a\'s partitions');
  // Let the standby copies catch up with the last batches (they tail every 250 ms).
  await new Promise((resolve) => setTimeout(resolve, 600));
  const output = f.firstOutputAfter(moved, await f.epochs());
  const killedAt = Date.now();
  a.job.child.kill('SIGKILL');
  const publishing = f.publish(200);
  await waitFor(() => moved.every((p) => runningOn(b).has(p)), 'b to take a\'s partitions over', 30_000).catch(async (e: unknown) => { b.job.child.kill('SIGKILL'); console.log(JSON.stringify(b.events.slice(-12)), (await b.job.exit).stderr.slice(-3000)); throw e; });
  await publishing;
  await waitFor(async () => (await f.stored()) >= f.total, 'every output', 30_000);
  const firstOutput = await output.at;
  output.stop();
  const takeover = b.events.filter((e) => e.started !== undefined && moved.includes(e.started) && e.at >= killedAt);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(await f.check()).toEqual([]);
  expect(await f.stored()).toBe(f.total);
  return { f, a, b, moved, startedAfter: Math.max(...takeover.map((e) => e.at)) - killedAt, outputAfter: firstOutput - killedAt };
}

await describeWith(NATS, 'failover with and without standby replicas', () => {
  it('with a standby: the survivor restores the dead one\'s partitions from its warm copies, reading only the tail; exactly once', async () => {
    const { b, moved, startedAfter, outputAfter } = await failover(1);
    const takeover = b.events.filter((e) => e.started !== undefined && moved.includes(e.started) && e.from !== undefined).slice(-moved.length);
    const full = b.events.filter((e) => e.standby !== undefined && moved.includes(e.standby));
    console.log(`SIGKILL failover with a standby (${KEYS} keys): started ${startedAfter} ms after the kill, output again after ${outputAfter} ms (lease ${LEASE_MS} ms); restored from ${takeover.map((e) => e.from).join(', ')}, changelog messages read at takeover ${takeover.map((e) => e.read).join(', ')}`);
    expect(full.length).toBeGreaterThanOrEqual(moved.length);
    expect(takeover.map((e) => e.from)).toEqual(moved.map(() => 'standby'));
    // The tail only: far fewer messages than a partition's keys.
    for (const e of takeover) expect(e.read).toBeLessThan(KEYS / PARTITIONS / 4);
  }, 120_000);

  it('without: the survivor reads each partition\'s whole changelog; exactly once', async () => {
    const { b, moved, startedAfter, outputAfter } = await failover(0);
    const takeover = b.events.filter((e) => e.started !== undefined && moved.includes(e.started)).slice(-moved.length);
    expect(takeover.map((e) => e.from)).toEqual(moved.map(() => 'changelog'));
    console.log(`SIGKILL failover without standby (${KEYS} keys): started ${startedAfter} ms after the kill, output again after ${outputAfter} ms (lease ${LEASE_MS} ms); changelog messages read at takeover ${takeover.map((e) => e.read).join(', ')}`);
    for (const e of takeover) expect(e.read).toBeGreaterThan(KEYS / PARTITIONS / 2);
  }, 120_000);
});
