import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { keyBy, map, StreamingContext, type JobPartition, type SluiceError } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { ChangelogStream, changelogCheckpoint, groupSource, jetStreamSink, partitionOf, PartitionLostError } from 'sluice/nats';
import { mapWithState, stateSpec } from 'sluice/state';
import { StaleLocalCheckpoint } from '../../../../connectors/nats/group/changelog-checkpoint.js';
import { describeWith, NATS, NATS_URL } from '../../../support/services.js';
import { useTempDirs } from '../../../support/temp-dir.js';
import { manager, messagesOf, newStream, publish } from '../nats-harness.js';

/*
 * One partition of a group, in this process, moving between "instances" (local checkpoint
 * directories): its commits go to the changelog, a fresh checkpoint restores from it and goes on
 * with the next batch id, a stale one is refused (the runner replaces it), a current one is used,
 * and a batch planned and written by an owner that died before committing is replayed by the next
 * with the same plan, so its outputs come once.
 */

const PARTITIONS = 2;
const tempDir = useTempDirs('sluice-changelog-ckpt-');
const changelogs: string[] = [];
afterAll(async () => {
  const jsm = await manager();
  for (const stream of changelogs) await jsm.streams.delete(stream).catch(() => undefined);
});

interface Out {
  readonly key: string;
  readonly n: number;
  readonly i: number;
}

/** Partition `index` of a group, owned as long as `owned()` says (else PARTITION_LOST). */
function partitionOwned(index: number, owned: () => boolean = () => true): JobPartition {
  return {
    group: 'gtest',
    index,
    count: PARTITIONS,
    assertOwner: () => (owned() ? Promise.resolve(1) : Promise.reject(new PartitionLostError(index, 'test', 1, 'the test took it'))),
  };
}

/** The counting job on partition `partition`, on the local checkpoint `dir`. */
function job(input: string, output: string, changelog: ChangelogStream, dir: string, partition: JobPartition, recovered: string[]): StreamingContext {
  const ctx = new StreamingContext({ batchInterval: '100ms', partition, checkpoint: changelogCheckpoint(levelCheckpoint(dir), { changelog, partition, onRecovered: (from, batchId) => recovered.push(`${from} ${batchId}`) }) });
  groupSource<{ key: string; i: number }>(ctx, { servers: NATS_URL, stream: input, prefix: input, partitions: PARTITIONS, format: 'json' }).pipe(
    map((r) => r.value),
    keyBy((v) => v.key),
    mapWithState(stateSpec((key: string, v: { key: string; i: number } | undefined, state) => {
      const n = ((state.getOption() as number | undefined) ?? 0) + 1;
      state.update(n);
      return { key, n, i: v?.i ?? -1 };
    }).name('count')),
    jetStreamSink<Out>(output, { servers: NATS_URL, name: 'out', partitionBy: { prefix: output, partitions: PARTITIONS, key: (o) => o.key }, fence: partition }),
  );
  return ctx;
}

/** Publishes records `from .. to - 1` of partition 0's keys. */
async function publishRecords(input: string, from: number, to: number): Promise<void> {
  const keys = ['a', 'b', 'c', 'd', 'e', 'f'].filter((k) => partitionOf(k, PARTITIONS) === 0);
  for (let i = from; i < to; i++) await publish(`${input}.0`, [JSON.stringify({ key: keys[i % keys.length], i })]);
}

/** Key k's outputs are n = 1 .. its records, each once. */
async function exactlyOnce(output: string, records: number): Promise<void> {
  const outs = (await messagesOf(output)).map((m) => JSON.parse(m.data) as Out);
  expect(outs).toHaveLength(records);
  const byKey = new Map<string, number[]>();
  for (const o of outs) byKey.set(o.key, [...(byKey.get(o.key) ?? []), o.n]);
  for (const ns of byKey.values()) expect(ns.sort((x, y) => x - y)).toEqual(ns.map((_, j) => j + 1));
}

async function setUp(): Promise<{ input: string; output: string; changelog: ChangelogStream }> {
  const input = await newStream('gin');
  const output = await newStream('gout');
  const name = `sluice_cl_${randomBytes(4).toString('hex')}`;
  changelogs.push(name);
  return { input, output, changelog: await ChangelogStream.open({ servers: NATS_URL, stream: name }) };
}

await describeWith(NATS, 'a partition of a group on a changelog checkpoint', () => {
  it('restores on a fresh checkpoint from the changelog and goes on; a stale local copy is refused, a current one used', async () => {
    const { input, output, changelog } = await setUp();
    const [dirA, dirB] = [await tempDir(), await tempDir()];
    const recovered: string[] = [];
    try {
      await publishRecords(input, 0, 30);
      const a = await job(input, output, changelog, dirA, partitionOwned(0), recovered).runToCompletion({ maxRecordsPerBatch: 10 });
      expect(a.lastBatchId).toBe(2);
      await publishRecords(input, 30, 50);
      const b = await job(input, output, changelog, dirB, partitionOwned(0), recovered).runToCompletion({ maxRecordsPerBatch: 10 });
      // Batch ids go on from the changelog's: (partition, batchId) names one batch on every instance.
      expect(b.lastBatchId).toBe(4);
      expect(recovered).toEqual(['fresh -1', 'changelog 2']);
      await exactlyOnce(output, 50);

      const stale = await job(input, output, changelog, dirA, partitionOwned(0), recovered).runToCompletion().then(() => undefined, (e: unknown) => e);
      expect((stale as SluiceError).cause).toBeInstanceOf(StaleLocalCheckpoint);
      await publishRecords(input, 50, 60);
      await job(input, output, changelog, dirB, partitionOwned(0), recovered).runToCompletion({ maxRecordsPerBatch: 10 });
      expect(recovered.at(-1)).toBe('local 4');
      await exactlyOnce(output, 60);
      expect((await changelog.restore(0)).batchId).toBe(5);
    } finally {
      await changelog.close();
    }
  });

  it('a batch planned and written by an owner that lost the partition before committing is replayed by the next owner with its plan: outputs once', async () => {
    const { input, output, changelog } = await setUp();
    const [dirA, dirB] = [await tempDir(), await tempDir()];
    const recovered: string[] = [];
    try {
      await publishRecords(input, 0, 40);
      // Each batch checks ownership to log its plan, to publish, and to commit: the 9th check is batch 2's commit.
      let checks = 0;
      const lostAtCommitOf2 = partitionOwned(0, () => ++checks < 9);
      const failure = await job(input, output, changelog, dirA, lostAtCommitOf2, recovered).runToCompletion({ maxRecordsPerBatch: 10 }).then(() => undefined, (e: unknown) => e);
      expect(failure).toMatchObject({ code: 'PARTITION_LOST' });
      expect((await messagesOf(output)).length).toBe(30);
      const logged = await changelog.restore(0);
      expect(logged.batchId).toBe(1);
      expect(logged.plans.map((p) => p.batchId)).toEqual([2]);
      // Another batch size: a fresh plan for batch 2 would read other records than those written.
      await job(input, output, changelog, dirB, partitionOwned(0), recovered).runToCompletion({ maxRecordsPerBatch: 25 });
      expect(recovered.at(-1)).toBe('changelog 1');
      await exactlyOnce(output, 40);
    } finally {
      await changelog.close();
    }
  });
});
