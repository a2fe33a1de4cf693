import { join } from 'node:path';
import { Level } from 'level';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, StreamingContext, union, type BatchProgress, type MultipleWatermarkPolicy } from 'sluice';
import { formatInspection, getOrCreate, inspectCheckpoint } from 'sluice/checkpoint';
import { decodeValue, encodeValue, type BatchPlan } from 'sluice/extend';
import { withWatermark } from 'sluice/windows';
import { sublevels, type CheckpointDb } from '../../checkpoint/checkpoint-layout.js';
import type { CommitEntry } from '../../checkpoint/internal.js';
import { useTempDir } from '../support/temp-dir.js';

/*
 * The watermark policy on a checkpoint (docs/watermarks-and-late-data.md, "Several watermarks"):
 * the checkpoint records the policy it was started with, a restart keeps it whatever the
 * program's option says (with a warning when they differ), and a checkpoint written before the
 * policy was recorded keeps 'min'. Replayed batches report the same event-time figures.
 */

const dir = useTempDir('sluice-wm-policy-');

interface Ev {
  readonly t: number;
}

interface Options {
  readonly policy?: MultipleWatermarkPolicy;
  readonly interval?: number;
  /** The batch whose sink throws, failing it. */
  readonly failAt?: number;
  /** The checkpoint's directory in the test's temporary one (default 'ckpt'). */
  readonly name?: string;
  /** Without `withWatermark` on the inputs (default: with). */
  readonly withoutWatermarks?: boolean;
}

/** What a run saw: every progress event, and the log lines. */
interface Seen {
  readonly progress: BatchProgress[];
  readonly logs: { readonly level: number; readonly msg: string }[];
}

/**
 * Two watermarked rate inputs, one record a batch each: 'fast' at event times 50, 60, 70, ... and
 * 'slow' at 5, 15, 25, ... (delay 0), unioned into a sink; batches `from` to `to` - 1 on the checkpoint.
 */
async function run(from: number, to: number, options: Options = {}): Promise<Seen> {
  const seen: Seen = { progress: [], logs: [] };
  const clock = new ManualClock(from * 1000);
  const ctx = await getOrCreate(
    join(dir(), options.name ?? 'ckpt'),
    (checkpoint) => {
      const logger = pino({ level: 'info' }, { write: (line: string) => void seen.logs.push(JSON.parse(line) as { level: number; msg: string }) });
      const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint, logger, ...(options.policy === undefined ? {} : { watermarkPolicy: options.policy }) });
      const rate = (name: string, first: number) =>
      {
        const input = ctx.rateStream<Ev>({ name, rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 1, generate: (i) => ({ t: first + 10 * i }) });
        return options.withoutWatermarks === true ? input : input.pipe(withWatermark((e: Ev) => e.t, 0, { name }));
      };
      rate('fast', 50)
        .pipe(union(rate('slow', 5)))
        .pipe(
          foreachBatch((_records, { batchId }) => {
            if (batchId === options.failAt) throw new Error(`the sink fails batch ${batchId}`);
          }),
        );
      ctx.addListener((e) => {
        if (e.type === 'batchCompleted') seen.progress.push(e.progress);
      });
      return ctx;
    },
    options.interval === undefined ? {} : { interval: options.interval },
  );
  await ctx.start();
  for (let b = from; b < to && ctx.state === 'active'; b++) await clock.advance(1000);
  await ctx.stop();
  await ctx.awaitTermination().catch(() => undefined);
  return seen;
}

const watermarks = (seen: Seen) => seen.progress.map((p) => [p.batchId, p.watermark]);
const warnings = (seen: Seen) => seen.logs.filter((l) => l.level === 40).map((l) => l.msg);

/** Rewrites every plan and commit of the checkpoint as Sluice wrote them before it recorded the policy. */
async function withoutPolicy(path: string): Promise<void> {
  const db: CheckpointDb = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' });
  const { offsets, commits } = sublevels(db);
  for await (const [key, bytes] of offsets.iterator()) {
    const { watermarkPolicy: _, ...plan } = decodeValue(bytes) as BatchPlan;
    await offsets.put(key, encodeValue(plan));
  }
  for await (const [key, bytes] of commits.iterator()) {
    const entry = decodeValue(bytes) as CommitEntry;
    const { policy: _, ...older } = entry.record.watermarks;
    await commits.put(key, encodeValue({ ...entry, record: { ...entry.record, watermarks: older } }));
  }
  await db.close();
}

describe('the watermark policy on a checkpoint', () => {
  it("by 'max' follows the fast input; a restart with 'min' keeps 'max' and logs a warning", async () => {
    const first = await run(0, 3, { policy: 'max' });
    expect(watermarks(first)).toEqual([[0, undefined], [1, 50], [2, 60]]);
    expect(warnings(first)).toEqual([]);
    const restarted = await run(3, 5, { policy: 'min' });
    // By 'min' batch 3 would keep 60 (the slow input's 25 is below it); by 'max' it moves on.
    expect(watermarks(restarted)).toEqual([[3, 70], [4, 80]]);
    expect(warnings(restarted)).toEqual([
      "the checkpoint was written with watermarkPolicy 'max' and keeps it: the context's 'min' is ignored. To change the policy, start on a new checkpoint directory; or set watermarkPolicy: 'max' to silence this warning.",
    ]);
    // Running with the checkpoint's policy: no warning.
    expect(warnings(await run(5, 6, { policy: 'max' }))).toEqual([]);
    const info = await inspectCheckpoint(join(dir(), 'ckpt'));
    expect(info).toMatchObject({ watermark: 90, watermarkPolicy: 'max' });
    expect(formatInspection(info)).toContain("watermark:      90 (1970-01-01T00:00:00.090Z) (policy 'max')");
  });

  it("keeps 'max' from the logged plans when no commit has persisted state yet (checkpoint interval 3)", async () => {
    // Batch 0 commits without persisting state; batch 1 fails: a restart replays both from their plans.
    await run(0, 3, { policy: 'max', interval: 3, failAt: 1 });
    const restarted = await run(2, 4, { policy: 'min', interval: 3 });
    expect(watermarks(restarted)).toEqual([[0, undefined], [1, 50], [2, 60], [3, 70]]);
    expect(warnings(restarted)).toHaveLength(1);
  });

  it("treats a checkpoint written before the policy was recorded as 'min', whatever the program says", async () => {
    await run(0, 3);
    await withoutPolicy(join(dir(), 'ckpt'));
    expect((await inspectCheckpoint(join(dir(), 'ckpt'))).watermarkPolicy).toBe('min');
    const restarted = await run(3, 5, { policy: 'max' });
    // By 'min': the slow input's 25, then 35 (by 'max' it would be 70, then 80).
    expect(watermarks(restarted)).toEqual([[3, 25], [4, 35]]);
    expect(warnings(restarted)).toEqual([
      "the checkpoint was written with watermarkPolicy 'min' and keeps it: the context's 'max' is ignored. To change the policy, start on a new checkpoint directory; or set watermarkPolicy: 'min' to silence this warning.",
    ]);
  });

  it("leaves a checkpoint whose program had no watermarks to the option of one that has ('max'), without a warning", async () => {
    await run(0, 3, { withoutWatermarks: true });
    const restarted = await run(3, 5, { policy: 'max' });
    // Batch 4 uses what batch 3 saw: by 'max' the fast input's 80 (by 'min' it would be 35).
    expect(watermarks(restarted)).toEqual([[3, undefined], [4, 80]]);
    expect(warnings(restarted)).toEqual([]);
    expect((await inspectCheckpoint(join(dir(), 'ckpt'))).watermarkPolicy).toBe('max');
  });

  it('replays a failed batch with the same event-time figures and watermarks as a run that never failed', async () => {
    const straight = await run(0, 4, { name: 'straight' });
    await run(0, 4, { failAt: 2 });
    const restarted = await run(2, 4);
    expect(restarted.progress.map((p) => [p.batchId, p.watermark, p.eventTime])).toEqual(straight.progress.slice(2).map((p) => [p.batchId, p.watermark, p.eventTime]));
    expect(restarted.progress[0]?.eventTime.map((e) => [e.stream, e.count, e.min, e.max, e.avg])).toEqual([
      ['fast', 1, 70, 70, 70],
      ['slow', 1, 25, 25, 25],
    ]);
  });
});
