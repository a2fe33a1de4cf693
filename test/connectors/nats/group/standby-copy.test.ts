import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { keyBy, map, StreamingContext, type JobPartition } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { ChangelogStream, changelogCheckpoint, groupSource, jetStreamSink, partitionOf, type PartitionCopy, type StateChange } from 'sluice/nats';
import { mapWithState, stateSpec } from 'sluice/state';
import { describeWith, NATS, NATS_URL } from '../../../support/services.js';
import { useTempDirs } from '../../../support/temp-dir.js';
import { manager, messagesOf, newStream, publish } from '../nats-harness.js';

/*
 * Standby replicas' warm copies (PartitionCopy): a copy caught up piece by piece gives what a
 * full read of the changelog gives; a partition restored with a current copy reads only the
 * changelog's tail ('standby', fewer messages) and goes on exactly once; a copy of a stream made
 * again, or one a limit of the stream removed messages behind, is refused and the whole changelog is read.
 */

const tempDir = useTempDirs('sluice-standby-');
const changelogs: string[] = [];
afterAll(async () => {
  const jsm = await manager();
  for (const stream of changelogs) await jsm.streams.delete(stream).catch(() => undefined);
});

async function openLog(): Promise<ChangelogStream> {
  const name = `sluice_sb_${randomBytes(4).toString('hex')}`;
  changelogs.push(name);
  return ChangelogStream.open({ servers: NATS_URL, stream: name });
}

/** Batch `b`'s changes: keys k0..k(n-1), some removed. */
function changes(b: number, n: number): StateChange[] {
  return Array.from({ length: n }, (_, i): StateChange => ((i + b) % 7 === 0 ? { key: ['count', `k${i}`], removed: true } : { key: ['count', `k${i}`], value: b * 100 + i }));
}

const sorted = (entries: readonly (readonly [unknown, unknown])[]): string[] => entries.map((e) => JSON.stringify(e)).sort();

const partition: JobPartition = { group: 'gsb', index: 0, count: 2, assertOwner: () => Promise.resolve(1) };

function job(input: string, output: string, changelog: ChangelogStream, dir: string, recovered: string[], standby?: PartitionCopy): StreamingContext {
  const ctx = new StreamingContext({ batchInterval: '100ms', partition, checkpoint: changelogCheckpoint(levelCheckpoint(dir), { changelog, partition, ...(standby === undefined ? {} : { standby }), onRecovered: (from, batchId, read) => recovered.push(`${from} ${batchId} ${read}`) }) });
  groupSource<{ key: string; i: number }>(ctx, { servers: NATS_URL, stream: input, prefix: input, partitions: 2, format: 'json' }).pipe(
    map((r) => r.value),
    keyBy((v) => v.key),
    mapWithState(stateSpec((key: string, v: { key: string; i: number } | undefined, state) => {
      const n = ((state.getOption() as number | undefined) ?? 0) + 1;
      state.update(n);
      return { key, n, i: v?.i ?? -1 };
    }).name('count')),
    jetStreamSink<{ key: string; n: number }>(output, { servers: NATS_URL, name: 'out', partitionBy: { prefix: output, partitions: 2, key: (o) => o.key }, fence: partition }),
  );
  return ctx;
}

await describeWith(NATS, 'standby copies of a partition\'s changelog', () => {
  it('a copy caught up piece by piece equals a full read, also across a batch cut short and plans', async () => {
    const log = await openLog();
    try {
      const copy = await log.standbyCopy(0);
      for (let b = 0; b < 6; b++) {
        await log.append(0, b, changes(b, 20 + b));
        await log.append(1, b, changes(b + 1, 5));
        if (b % 2 === 1) await log.catchUp(copy);
      }
      await log.appendPlan(0, 6, 1, { batchId: 6 });
      await log.catchUp(copy);
      const full = await log.restore(0);
      const warm = await log.restore(0, copy);
      expect(warm.from).toBe('standby');
      expect(full.from).toBe('changelog');
      expect(warm.batchId).toBe(5);
      expect(sorted(warm.entries)).toEqual(sorted(full.entries));
      expect(warm.plans).toEqual(full.plans);
      expect(warm.plans.map((p) => p.batchId)).toEqual([6]);
      // Nothing new: the warm restore read nothing; the full one read every message kept.
      expect(warm.read).toBe(0);
      expect(full.read).toBeGreaterThan(40);
    } finally {
      await log.close();
    }
  });

  it('a partition restored with a current copy reads only the changelog\'s tail and goes on exactly once', async () => {
    const log = await openLog();
    const input = await newStream('gin');
    const output = await newStream('gout');
    const keys = Array.from({ length: 200 }, (_, i) => `key${i}`).filter((k) => partitionOf(k, 2) === 0);
    const records = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) await publish(`${input}.0`, [JSON.stringify({ key: keys[i % keys.length], i })]);
    };
    const [dirA, dirB] = [await tempDir(), await tempDir()];
    const recovered: string[] = [];
    try {
      await records(0, 150);
      await job(input, output, log, dirA, recovered).runToCompletion({ maxRecordsPerBatch: 50 });
      // B stands by: its copy catches up, then A runs two more batches.
      const copy = await log.standbyCopy(0);
      await log.catchUp(copy);
      expect(copy.batchId).toBe(2);
      await records(150, 170);
      await job(input, output, log, dirA, recovered).runToCompletion({ maxRecordsPerBatch: 10 });
      const fullRead = (await log.restore(0)).read;
      await records(170, 180);
      await job(input, output, log, dirB, recovered, copy).runToCompletion({ maxRecordsPerBatch: 10 });
      const [from, batchId, read] = (recovered.at(-1) as string).split(' ');
      expect([from, batchId]).toEqual(['standby', '4']);
      // The tail: batches 3 and 4 (their plans, changes and markers), not the ~100 keys before.
      expect(Number(read)).toBeLessThan(fullRead / 3);
      const outs = (await messagesOf(output)).map((m) => JSON.parse(m.data) as { key: string; n: number });
      expect(outs).toHaveLength(180);
      const byKey = new Map<string, number[]>();
      for (const o of outs) byKey.set(o.key, [...(byKey.get(o.key) ?? []), o.n]);
      for (const ns of byKey.values()) expect(ns.sort((x, y) => x - y)).toEqual(ns.map((_, j) => j + 1));
    } finally {
      await log.close();
    }
  });

  it('refuses a copy a limit of the stream removed messages behind, or of a stream made again: the whole changelog is read', async () => {
    const log = await openLog();
    const jsm = await manager();
    try {
      await log.append(0, 0, changes(0, 10));
      const behind = await log.standbyCopy(0);
      await log.catchUp(behind);
      // A limit on the stream removes messages after the copy's read point: it cannot know what it missed.
      const { config } = await jsm.streams.info(log.stream);
      await jsm.streams.update(log.stream, { ...config, max_msgs: 5 });
      await log.append(0, 1, changes(1, 10));
      await log.append(0, 2, changes(2, 3));
      const restored = await log.restore(0, behind);
      expect(restored.from).toBe('changelog');
      expect(behind.refused).toMatch(/may have been removed/);

      const remade = await log.standbyCopy(0);
      await log.catchUp(remade);
      await jsm.streams.delete(log.stream);
      const again = await ChangelogStream.open({ servers: NATS_URL, stream: log.stream });
      await again.append(0, 0, changes(5, 4));
      const fresh = await again.restore(0, remade);
      expect(fresh.from).toBe('changelog');
      expect(remade.refused).toMatch(/made again/);
      expect(sorted(fresh.entries)).toEqual(sorted((await again.restore(0)).entries));
      await again.close();
    } finally {
      await log.close();
    }
  });
});
