import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, StreamingContext, type BatchProgress } from 'sluice';
import { showRunStatus, statusLine } from '../../cli/run-status.js';

const progress = (over: Partial<BatchProgress>): BatchProgress => ({
  batchId: 12,
  batchTime: 13_000 as BatchProgress['batchTime'],
  numInputRecords: 300,
  numBadRecords: 0,
  sources: [],
  schedulingDelayMs: 4,
  processingTimeMs: 35,
  totalDelayMs: 39,
  watermark: undefined,
  eventTime: [],
  lateRecordsDropped: 0,
  numSkippedRecords: 0,
  numDeadLetteredRecords: 0,
  numDuplicatesDropped: 0,
  operators: [],
  ...over,
});

describe('the status of sluice run', () => {
  it('shows the batch, the input rate, processing time against the interval, the delay and the watermark', () => {
    expect(statusLine(progress({}), 100, false)).toBe('batch 12 | 300 records, 3000/s | processing 35 ms of 100 ms | delay 4 ms | watermark none');
    expect(statusLine(progress({ watermark: 5000 as BatchProgress['watermark'], numBadRecords: 2, lateRecordsDropped: 7 }), 1000, false)).toBe(
      'batch 12 | 300 records, 2 bad, 300/s | processing 35 ms of 1000 ms | delay 4 ms | watermark 1970-01-01T00:00:05.000Z | 7 late dropped',
    );
    // A bounded run's rate is per second of processing.
    expect(statusLine(progress({ processingTimeMs: 150 }), 1000, true)).toMatch(/^batch 12 \| 300 records, 2000\/s \|/);
  });

  it('prints a plain line per batch and the lifecycle when stdout is not a terminal', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    ctx.queueStream([[1, 2], [3]]).pipe(foreachBatch(() => undefined));
    const lines: string[] = [];
    const status = showRunStatus(ctx, { out: (line) => lines.push(line), err: (line) => lines.push(line), isTTY: false }, false);
    await ctx.start();
    await clock.advance(2000);
    await ctx.stop();
    status.done();
    expect(lines.map((line) => line.replace(/processing \d+ ms/, 'processing N ms'))).toEqual([
      'sluice run: started (batch interval 1000 ms)',
      'batch 0 | 2 records, 2/s | processing N ms of 1000 ms | delay 0 ms | watermark none',
      'batch 1 | 1 records, 1/s | processing N ms of 1000 ms | delay 0 ms | watermark none',
      'sluice run: stopped',
    ]);
  });
});
