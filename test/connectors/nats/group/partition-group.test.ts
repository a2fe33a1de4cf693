import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, expect, it } from 'vitest';
import { PartitionGroup, PartitionLostError, type PartitionGroupEvent } from 'sluice/nats';
import { GroupBucket } from '../../../../connectors/nats/group/group-bucket.js';
import { startChildJob, type ChildJob } from '../../../support/child-job.js';
import { NATS_SERVER_BINARY, useJetStreamCluster } from '../../../support/jetstream-cluster.js';
import { describeWith } from '../../../support/services.js';

/*
 * Partition groups on a real three-server JetStream cluster: fair splits, handover on a graceful
 * leave, takeover after a SIGKILLed member's lease expires, and fencing: a member paused with
 * SIGSTOP past its lease, then resumed, has every write refused and learns it lost the
 * partitions. Leases of 1.5 s keep the file short.
 */

const LEASE_MS = 1_500;
const HEARTBEAT_MS = 300;
const PARTITIONS = 12;
const MEMBER = 'test/connectors/nats/group/fixtures/member.mjs';

const cluster = useJetStreamCluster();
const members: PartitionGroup[] = [];
const connections: NatsConnection[] = [];
afterEach(async () => {
  await Promise.all(members.splice(0).map((m) => m.close()));
});
afterAll(async () => {
  await Promise.all(connections.map((nc) => nc.close()));
});

const groupName = (): string => `g_${randomBytes(4).toString('hex')}`;

async function join(group: string, member: string, events: PartitionGroupEvent[] = []): Promise<PartitionGroup> {
  const c = await cluster();
  const m = await PartitionGroup.join({ servers: c.servers, group, member, partitions: PARTITIONS, leaseMs: LEASE_MS, heartbeatMs: HEARTBEAT_MS, replicas: 3, onChange: (e) => { events.push(e); } });
  members.push(m);
  return m;
}

async function client(): Promise<NatsConnection> {
  const nc = await connect({ servers: (await cluster()).servers });
  connections.push(nc);
  return nc;
}

/** Waits until `ready()` holds, checking every 50 ms, at most `ms`; returns the ms it took. */
async function waitFor(ready: () => boolean, what: string, ms = 10_000): Promise<number> {
  const start = performance.now();
  while (!ready()) {
    if (performance.now() - start > ms) throw new Error(`still waiting for ${what} after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return performance.now() - start;
}

/** Whether the members own every partition once, split within one of each other. */
function fair(...group: readonly PartitionGroup[]): boolean {
  const owned = group.map((m) => m.owned());
  const all = owned.flat().sort((a, b) => a - b);
  const sizes = owned.map((o) => o.length);
  return all.length === PARTITIONS && all.every((p, i) => p === i) && Math.max(...sizes) - Math.min(...sizes) <= 1;
}

/** A member in a child process, writing fenced messages to `<stream>.<p>`; its JSON lines parsed. */
async function childMember(group: string, member: string, stream: string): Promise<{ job: ChildJob; lines: Record<string, number>[] }> {
  const job = startChildJob(MEMBER, [(await cluster()).servers.join(','), group, member, String(PARTITIONS), String(LEASE_MS), stream]);
  const lines: Record<string, number>[] = [];
  job.onLine((line) => lines.push(JSON.parse(line) as Record<string, number>));
  await waitFor(() => lines.some((l) => 'ready' in l), `${member} to join`, 20_000);
  return { job, lines };
}

/** A fresh R3 stream `<name>` capturing `<name>.>`. */
async function newStream(): Promise<string> {
  const name = `s_${randomBytes(4).toString('hex')}`;
  await (await jetstreamManager(await client())).streams.add({ name, subjects: [`${name}.>`], num_replicas: 3 });
  return name;
}

/** Every message of `stream`, in order: partition and payload. */
async function messagesOf(stream: string): Promise<{ partition: number; member: string; epoch: number }[]> {
  const nc = await client();
  const info = await (await jetstreamManager(nc)).streams.info(stream);
  const out: { partition: number; member: string; epoch: number }[] = [];
  if (info.state.messages === 0) return out;
  const consumer = await jetstream(nc).consumers.get(stream);
  for await (const m of await consumer.fetch({ max_messages: info.state.messages, expires: 5_000 })) {
    out.push({ partition: Number(m.subject.split('.')[1]), ...(m.json<{ member: string; epoch: number }>()) });
    if (m.info.pending === 0) break;
  }
  return out;
}

await describeWith(NATS_SERVER_BINARY, 'PartitionGroup on a three-server JetStream cluster', () => {
  it('splits 12 partitions 6/6 between two members and 4/4/4 among three, moving only what the newcomer takes', async () => {
    const group = groupName();
    const a = await join(group, 'a');
    expect(a.owned()).toHaveLength(PARTITIONS);
    const b = await join(group, 'b');
    await waitFor(() => fair(a, b), 'a 6/6 split');
    const beforeC = [a.owned(), b.owned()];
    const c = await join(group, 'c');
    await waitFor(() => fair(a, b, c), 'a 4/4/4 split');
    expect([a.owned(), b.owned(), c.owned()].map((o) => o.length)).toEqual([4, 4, 4]);
    // Sticky: a and b kept 4 of their own 6 each, and gave c the rest.
    expect(a.owned().every((p) => beforeC[0]?.includes(p))).toBe(true);
    expect(b.owned().every((p) => beforeC[1]?.includes(p))).toBe(true);
    expect(a.members()).toEqual(['a', 'b', 'c']);
  });

  it('hands a leaving member\'s partitions over at once, well before its lease would expire', async () => {
    const group = groupName();
    const events: PartitionGroupEvent[] = [];
    const a = await join(group, 'a');
    const b = await join(group, 'b', events);
    await waitFor(() => fair(a, b), 'a 6/6 split');
    const bHad = b.owned();
    const start = performance.now();
    await b.leave();
    const took = performance.now() - start + (await waitFor(() => a.owned().length === PARTITIONS, 'a to own everything'));
    expect(took).toBeLessThan(LEASE_MS);
    expect(events.filter((e) => e.type === 'revoking').map((e) => e.partition)).toEqual(bHad);
    await expect(b.assertOwner(bHad[0] as number)).rejects.toThrow(PartitionLostError);
  });

  it('refuses a fencing check once another member took the lease over, and says the partition was lost', async () => {
    const group = groupName();
    const events: PartitionGroupEvent[] = [];
    const a = await join(group, 'a', events);
    const token = await a.assertOwner(5);
    expect(token).toEqual({ partition: 5, epoch: 1, member: 'a' });
    // Another member's takeover, by compare-and-set on the lease's revision.
    const bucket = await GroupBucket.open(await client(), group, 3);
    const lease = await bucket.get<{ epoch: number }>('leases.5');
    expect(await bucket.put('leases.5', { holder: 'intruder', heartbeatAt: Date.now(), epoch: 2 }, lease?.revision ?? -1)).toBeDefined();
    const refused = await a.assertOwner(5).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(PartitionLostError);
    expect(refused).toMatchObject({ partition: 5, member: 'a', epoch: 1 });
    expect(events.at(-1)).toMatchObject({ type: 'lost', partition: 5, epoch: 1 });
    expect(a.owned()).not.toContain(5);
  });

  it('gives a SIGKILLed member\'s partitions to the others once its leases expire', async () => {
    const group = groupName();
    const stream = await newStream();
    const child = await childMember(group, 'child', stream);
    const a = await join(group, 'a');
    await waitFor(() => a.owned().length === PARTITIONS / 2, 'a to take half');
    child.job.child.kill('SIGKILL');
    await child.job.exit;
    const took = await waitFor(() => a.owned().length === PARTITIONS, 'a to own everything', 10_000);
    expect(took).toBeGreaterThan(LEASE_MS - 2 * HEARTBEAT_MS);
    expect(took).toBeLessThan(LEASE_MS + 6 * HEARTBEAT_MS);
  });

  it('split brain: a member paused with SIGSTOP past its lease, then resumed, has its writes refused and learns it lost its partitions', async () => {
    const group = groupName();
    const stream = await newStream();
    const child = await childMember(group, 'child', stream);
    const js = jetstream(await client());
    const a = await join(group, 'a');
    await waitFor(() => a.owned().length === PARTITIONS / 2 && child.lines.filter((l) => 'revoking' in l).length === PARTITIONS / 2, 'a 6/6 split');
    const childHad = Array.from({ length: PARTITIONS }, (_, p) => p).filter((p) => !a.owned().includes(p));
    await new Promise((resolve) => setTimeout(resolve, 200)); // the child writes on its partitions meanwhile

    child.job.child.kill('SIGSTOP');
    await waitFor(() => a.owned().length === PARTITIONS, 'a to take the paused member\'s partitions', 10_000);
    for (const p of childHad) {
      const token = await a.assertOwner(p);
      await js.publish(`${stream}.${p}`, JSON.stringify({ member: 'a', epoch: token.epoch }));
    }
    child.job.child.kill('SIGCONT');
    await waitFor(() => childHad.every((p) => child.lines.some((l) => l.refused === p)), 'the child to have every write refused', 10_000);
    expect(childHad.every((p) => child.lines.some((l) => l.lost === p))).toBe(true);
    child.job.child.kill('SIGTERM');
    expect((await child.job.exit).code).toBe(0);

    const messages = await messagesOf(stream);
    for (const p of childHad) {
      const onP = messages.filter((m) => m.partition === p);
      const firstOfA = onP.findIndex((m) => m.member === 'a');
      expect(firstOfA).toBeGreaterThan(0);
      // Nothing the paused member wrote under its old lease landed after the new owner's first write
      // (once resumed it may rejoin and be given partitions again, under a new epoch).
      const epochOfA = (onP[firstOfA] as { epoch: number }).epoch;
      expect(onP.slice(firstOfA).filter((m) => m.member !== 'a' && m.epoch <= epochOfA)).toEqual([]);
      for (let i = 1; i < onP.length; i++) expect((onP[i] as { epoch: number }).epoch).toBeGreaterThanOrEqual((onP[i - 1] as { epoch: number }).epoch);
    }
  });
});
