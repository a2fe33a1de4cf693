import fc from 'fast-check';
import { afterEach, expect, it } from 'vitest';
import { NATS_SERVER_BINARY, useJetStreamCluster } from '../../../support/jetstream-cluster.js';
import { describeWith } from '../../../support/services.js';
import { GroupFixture, runningOn, waitFor, type Member } from './group-harness.js';

/*
 * Chaos: the counting job (fixtures/count-job.mjs) on three instances over six partitions of a
 * three-server JetStream cluster (every stream and bucket with three replicas), while records
 * keep coming: instances are SIGKILLed at random and started again (with the same member id, so
 * a quick restart finds its local checkpoint current, a late one a stale copy to replace from the
 * changelog), and one JetStream server is killed and restarted midway. At the end the output
 * equals a run that never crashed: every key's counts 1 .. n, each once. The short variant runs in
 * CI; SLUICE_CHAOS_LONG=1 runs 20 kills. The seed is printed: SLUICE_CHAOS_SEED=<seed> replays
 * the same choices (the timing of the processes is the machine's).
 */

const LONG = process.env.SLUICE_CHAOS_LONG === '1';
const KILLS = LONG ? 20 : 4;
const PARTITIONS = 6;
const LEASE_MS = 1_500;
const SEED = Number(process.env.SLUICE_CHAOS_SEED ?? Date.now() % 1_000_000);

const cluster = useJetStreamCluster();
let fixture: GroupFixture | undefined;
afterEach(async () => {
  await fixture?.tearDown();
  fixture = undefined;
});

/** Every partition runs on exactly one live member, and each member runs its share. */
function settled(members: readonly Member[]): boolean {
  const seen = members.flatMap((m) => [...runningOn(m)]);
  return seen.length === PARTITIONS && new Set(seen).size === PARTITIONS && members.every((m) => runningOn(m).size === PARTITIONS / members.length);
}

await describeWith(NATS_SERVER_BINARY, 'a job run by a group, under chaos', () => {
  it(`${KILLS} SIGKILLs of instances and a server restart: nothing lost, nothing doubled (seed ${SEED})`, async () => {
    console.log(`group chaos: seed ${SEED} (SLUICE_CHAOS_SEED=${SEED} replays the choices), ${KILLS} kills`);
    const c = await cluster();
    const f = new GroupFixture(c.servers, PARTITIONS, LEASE_MS);
    fixture = f;
    await f.setUp(3);
    const rng = fc.sample(fc.tuple(fc.nat(2), fc.nat(LEASE_MS * 2)), { seed: SEED, numRuns: KILLS });
    const live = new Map<string, Member>([['a', f.start('a')], ['b', f.start('b')], ['c', f.start('c')]]);
    await waitFor(() => settled([...live.values()]), 'the partitions to be spread', 30_000);
    const started = Date.now();
    const recoveries: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const [which, downMs] = rng[k] as [number, number];
      const id = ['a', 'b', 'c'][which] as string;
      const victim = live.get(id) as Member;
      await f.publish(150);
      const moved = [...runningOn(victim)];
      const output = f.firstOutputAfter(moved, await f.epochs());
      const killedAt = Date.now();
      victim.job.child.kill('SIGKILL');
      await victim.job.exit;
      live.delete(id);
      if (k === Math.floor(KILLS / 2)) {
        await c.killServer(2);
        await f.publish(50);
        await c.restartServer(2);
      }
      await new Promise((resolve) => setTimeout(resolve, downMs));
      live.set(id, f.start(id));
      const publishing = f.publish(100);
      await waitFor(() => settled([...live.values()]), `the partitions to be spread again after kill ${k + 1}`, 30_000);
      await publishing;
      if (moved.length > 0) {
        const at = await Promise.race([output.at, new Promise<number>((resolve) => setTimeout(() => { resolve(Number.NaN); }, 15_000))]);
        if (!Number.isNaN(at)) recoveries.push(at - killedAt);
      }
      output.stop();
    }
    await waitFor(async () => (await f.stored()) >= f.total, 'every output', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const sorted = [...recoveries].sort((x, y) => x - y);
    console.log(`group chaos: ${KILLS} kills in ${Math.round((Date.now() - started) / 1000)} s, ${f.total} records; from a kill to its partitions' output again (a new owner's epoch): median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted.at(-1)} ms over ${sorted.length} (lease ${LEASE_MS} ms, restarts after 0-${LEASE_MS * 2} ms)`);
    expect(await f.check()).toEqual([]);
    expect(await f.stored()).toBe(f.total);
  }, LONG ? 900_000 : 120_000);
});
