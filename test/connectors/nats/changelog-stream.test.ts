import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { ChangelogStream } from 'sluice/nats';
import { describeWith, NATS, NATS_URL } from '../../support/services.js';
import { manager } from './nats-harness.js';

/*
 * The changelog stream on the local server: per-partition state restored as of the last committed
 * batch, compacted per key, a replayed append stored once, a batch cut short ignored.
 */

const streams: string[] = [];
afterAll(async () => {
  const jsm = await manager();
  for (const stream of streams) await jsm.streams.delete(stream).catch(() => undefined);
});

async function openLog(): Promise<ChangelogStream> {
  const stream = `sluice_changelog_${randomBytes(4).toString('hex')}`;
  streams.push(stream);
  return ChangelogStream.open({ servers: NATS_URL, stream });
}

const sorted = (entries: readonly (readonly [unknown, unknown])[]): string[] => entries.map((e) => JSON.stringify(e)).sort();

await describeWith(NATS, 'ChangelogStream on the live server', () => {
  it('restores each partition\'s keys as of its last batch, removals included, keeping two messages per key', async () => {
    const log = await openLog();
    try {
      expect(await log.restore(0)).toEqual({ batchId: -1, entries: [], plans: [], from: 'changelog', read: 0 });
      await log.append(0, 0, [{ key: 'a', value: 1 }, { key: 'b', value: { n: 1 } }, { key: ['c', 2], value: [1, 2] }]);
      await log.append(1, 0, [{ key: 'a', value: 100 }]);
      for (let batch = 1; batch <= 5; batch++) await log.append(0, batch, [{ key: 'a', value: batch + 1 }, { key: 'a', value: 10 * batch }]);
      await log.append(0, 6, [{ key: 'b', removed: true }, { key: 7, value: new Map([['x', 1]]) }]);
      const restored = await log.restore(0);
      expect(restored.batchId).toBe(6);
      expect(sorted(restored.entries)).toEqual(sorted([['a', 50], [['c', 2], [1, 2]], [7, {}]]));
      expect(restored.entries.find(([k]) => k === 7)?.[1]).toEqual(new Map([['x', 1]]));
      // Its change and its marker.
      expect(await log.restore(1)).toEqual({ batchId: 0, entries: [['a', 100]], plans: [], from: 'changelog', read: 2 });
      const info = await (await manager()).streams.info(log.stream);
      // Per key at most two messages: a (2), b (2), c (1), 7 (1), partition 1's a (1), markers (2 + 1).
      expect(info.state.messages).toBe(10);
    } finally {
      await log.close();
    }
  });

  it('stores a replayed append once, and ignores a batch whose marker never came', async () => {
    const log = await openLog();
    try {
      await log.append(2, 0, [{ key: 'k', value: 'zero' }]);
      await log.append(2, 1, [{ key: 'k', value: 'one' }]);
      await log.append(2, 1, [{ key: 'k', value: 'one' }]);
      const jsm = await manager();
      expect((await jsm.streams.info(log.stream)).state.messages).toBe(4);
      // Batch 2 cut short by a crash: its change stored, its marker not.
      await log.append(2, 2, [{ key: 'k', value: 'two' }]);
      const last = (await jsm.streams.info(log.stream)).state.last_seq;
      await jsm.streams.deleteMessage(log.stream, last);
      // The key's last two messages (batches 1 and 2) and batch 1's marker (the subject keeps two markers: 1 and the deleted 2).
      expect(await log.restore(2)).toEqual({ batchId: 1, entries: [['k', 'one']], plans: [], from: 'changelog', read: 3 });
    } finally {
      await log.close();
    }
  });

  it('gives the plans logged after the last committed batch, in order and without gaps, the highest epoch\'s for each', async () => {
    const log = await openLog();
    try {
      await log.appendPlan(0, 0, 1, { batchId: 0, end: 10 });
      await log.append(0, 0, [{ key: 'a', value: 1 }]);
      await log.appendPlan(0, 1, 1, { batchId: 1, end: 20 });
      // A new owner replays batch 1 with the plan it restored, logged again under its epoch.
      await log.appendPlan(0, 1, 2, { batchId: 1, end: 20, again: true });
      await log.appendPlan(0, 2, 2, { batchId: 2, end: 30 });
      await log.appendPlan(0, 4, 2, { batchId: 4, end: 50 });
      // A replayed plan is stored once.
      await log.appendPlan(0, 2, 2, { batchId: 2, end: 30 });
      const restored = await log.restore(0);
      expect(restored.batchId).toBe(0);
      expect(restored.plans).toEqual([
        { batchId: 1, epoch: 2, plan: { batchId: 1, end: 20, again: true } },
        { batchId: 2, epoch: 2, plan: { batchId: 2, end: 30 } },
      ]);
      await log.append(0, 1, []);
      await log.append(0, 2, []);
      expect((await log.restore(0)).plans).toEqual([]);
      expect((await log.restore(0)).entries).toEqual([['a', 1]]);
    } finally {
      await log.close();
    }
  });
});
