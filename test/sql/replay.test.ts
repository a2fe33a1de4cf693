import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, StreamingContext } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { seededRandom } from 'sluice/testing';
import { sql, type SqlRow } from 'sluice/sql';
import { useTempDir } from '../support/temp-dir.js';

const dir = useTempDir();

/**
 * 200 records a batch, record i under one of 40 keys drawn by a seeded generator from i (so a
 * replay reads the same records), aggregated per key by a query without ORDER BY. The sink fails
 * the first time it meets batch `failOn`, after seeing its rows.
 */
function job(clock: ManualClock, seen: Map<number, SqlRow[][]>, failOn: number | undefined): StreamingContext {
  const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(join(dir(), 'ckpt')) });
  ctx
    .rateStream({ name: 'rate', rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 200, generate: (i) => ({ key: `k${Math.floor(seededRandom(i)() * 40)}`, amount: (i % 17) - 8 }) })
    .pipe(
      sql('SELECT key, sum(amount) AS total, count(*) AS n, list(amount) AS amounts FROM batch GROUP BY key', { schema: { key: 'VARCHAR', amount: 'DOUBLE' } }),
      foreachBatch((rows, { batchId }) => {
        seen.set(batchId, [...(seen.get(batchId) ?? []), [...rows]]);
        if (batchId === failOn && seen.get(batchId)?.length === 1) throw new Error('the sink fails once');
      }),
    );
  return ctx;
}

describe('sql in replay', () => {
  it('a batch replayed after a failure gives the same rows in the same order (no ORDER BY)', async () => {
    const seen = new Map<number, SqlRow[][]>();
    const clock = new ManualClock();
    const first = job(clock, seen, 2);
    await first.start();
    await clock.advance(3000);
    await expect(first.awaitTermination()).rejects.toThrow(/the sink fails once/);
    const again = new ManualClock();
    const second = job(again, seen, 2);
    await second.start(); // replays batch 2 from its logged plan
    await again.advance(4000);
    await second.stop();
    const [failed, replayed] = seen.get(2) ?? [];
    expect(failed?.length).toBeGreaterThan(10);
    expect(replayed).toEqual(failed);
    expect(seen.get(3)).toHaveLength(1);
  });
});
