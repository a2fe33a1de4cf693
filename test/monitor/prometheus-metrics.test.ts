import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { foreachBatch, map, StreamingContext, type BatchProgress } from 'sluice';
import { dropDuplicates } from 'sluice/windows';
import { VirtualClock } from '../support/virtual-clock.js';
import { levelCheckpoint } from 'sluice/checkpoint';
import { prometheusMetrics, serveMonitor } from 'sluice/monitor';
import { fraudJob, type FraudJob } from './fraud-job.js';
import { parsePrometheusText, valueOf, type Family } from './prometheus-text.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Two batches of the fraud job (see the figures in the comments). */
async function twoBatches(job: FraudJob): Promise<void> {
  const { ctx, clock, payments, logins } = job;
  // Batch 0 (batch time 101 s): 2 payments and a bad line; 3 logins of 2 users.
  payments.push('{"card":"a","amount":10,"t":95000}', '{"card":"b","amount":5,"t":95500}', 'oops');
  logins.push(['u1', 'u2', 'u1']);
  await ctx.start();
  await clock.advance(1000);
  // Batch 1 (102 s, watermark 95.5 s - 1 s = 94.5 s): a payment of 90 s is late for its window [90 s, 91 s).
  payments.push('{"card":"a","amount":7,"t":90000}', '{"card":"a","amount":3,"t":96000}');
  logins.push(['u1']);
  await clock.advance(1000);
}

async function scrape(text: () => Promise<string>): Promise<Map<string, Family>> {
  return parsePrometheusText(await text());
}

describe('prometheusMetrics', () => {
  it('counts batches, records per source, bad and late records, state rows per operator and the watermark, by Prometheus conventions', async () => {
    const job = fraudJob();
    const metrics = prometheusMetrics(job.ctx, { job: 'fraud' });
    await twoBatches(job);
    const m = await scrape(() => metrics.text());
    await job.ctx.stop();
    const job_ = { job: 'fraud' };
    const types = Object.fromEntries([...m].map(([name, f]) => [name, f.type]));
    expect(types).toMatchObject({
      sluice_batches_completed_total: 'counter',
      sluice_batches_failed_total: 'counter',
      sluice_input_records_total: 'counter',
      sluice_bad_records_total: 'counter',
      sluice_late_records_dropped_total: 'counter',
      sluice_batch_processing_seconds: 'histogram',
      sluice_batch_scheduling_delay_seconds: 'histogram',
      sluice_batch_total_delay_seconds: 'histogram',
      sluice_watermark_seconds: 'gauge',
      sluice_watermark_lag_seconds: 'gauge',
      sluice_state_rows: 'gauge',
      sluice_state_bytes: 'gauge',
      sluice_batch_interval_seconds: 'gauge',
    });
    for (const [name, family] of m) {
      expect(name, 'every name has the prefix and counters end in _total').toMatch(family.type === 'counter' ? /^sluice_[a-z_]+_total$/ : /^sluice_[a-z_]+$/);
      expect(family.help).not.toBe('');
      for (const sample of family.samples) expect(sample.labels.job, `${sample.name} has the job label`).toBe('fraud');
    }
    expect(valueOf(m, 'sluice_batches_completed_total', job_)).toBe(2);
    expect(valueOf(m, 'sluice_batches_failed_total', job_)).toBe(0);
    expect(valueOf(m, 'sluice_last_completed_batch_id', job_)).toBe(1);
    expect(valueOf(m, 'sluice_batch_interval_seconds', job_)).toBe(1);
    expect(valueOf(m, 'sluice_running', job_)).toBe(1);
    expect(valueOf(m, 'sluice_input_records_total', { job: 'fraud', source: 'payments' })).toBe(4);
    expect(valueOf(m, 'sluice_input_records_total', { job: 'fraud', source: 'logins' })).toBe(4);
    expect(valueOf(m, 'sluice_bad_records_total', { job: 'fraud', source: 'payments' })).toBe(1);
    expect(valueOf(m, 'sluice_bad_records_total', { job: 'fraud', source: 'logins' })).toBe(0);
    expect(valueOf(m, 'sluice_late_records_dropped_total', { job: 'fraud', operator: 'perSecond' })).toBe(1);
    expect(valueOf(m, 'sluice_state_rows', { job: 'fraud', operator: 'cardStats' })).toBe(2);
    expect(valueOf(m, 'sluice_state_rows', { job: 'fraud', operator: 'loginCounts' })).toBe(2);
    expect(valueOf(m, 'sluice_watermark_seconds', { job: 'fraud', stream: 'paymentTime' })).toBe(94.5);
    expect(valueOf(m, 'sluice_watermark_lag_seconds', { job: 'fraud', stream: 'paymentTime' })).toBe(102 - 94.5);
    // On a ManualClock a batch takes no time: both batches fall in every bucket.
    expect(valueOf(m, 'sluice_batch_processing_seconds_count', job_)).toBe(2);
    expect(valueOf(m, 'sluice_batch_processing_seconds_sum', job_)).toBe(0);
    const buckets = m.get('sluice_batch_processing_seconds')?.samples.filter((s) => s.name.endsWith('_bucket')).map((s) => s.labels.le);
    expect(buckets).toEqual(['0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '0.75', '1', '1.5', '2', '5', '10', '+Inf']);
    expect(m.has('sluice_checkpoint_commit_seconds')).toBe(true);
    expect(m.get('sluice_checkpoint_commit_seconds')?.samples.filter((s) => s.name.endsWith('_count')).map((s) => s.value)).toEqual([]);
    expect(valueOf(await scrape(() => metrics.text()), 'sluice_running', job_)).toBe(0);
  });

  it('fits the histogram buckets to the batch interval', async () => {
    const { ctx } = fraudJob({ batchInterval: '30s' });
    const m = await scrape(() => prometheusMetrics(ctx).text());
    const bounds = m.get('sluice_batch_scheduling_delay_seconds')?.samples.filter((s) => s.name.endsWith('_bucket')).map((s) => s.labels.le);
    expect(bounds).toEqual(['0.3', '0.75', '1.5', '3', '7.5', '15', '22.5', '30', '45', '60', '150', '300', '+Inf']);
  });

  it('reports the checkpoint commit time and size of every batch, as the progress events give them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-monitor-metrics-'));
    dirs.push(dir);
    const job = fraudJob({ checkpoint: levelCheckpoint(join(dir, 'cp')) });
    const commits: NonNullable<BatchProgress['checkpointCommit']>[] = [];
    let stateBytes: number | undefined;
    job.ctx.addListener((e) => {
      if (e.type !== 'batchCompleted') return;
      if (e.progress.checkpointCommit !== undefined) commits.push(e.progress.checkpointCommit);
      stateBytes = e.progress.operators.find((o) => o.operator === 'cardStats')?.stateBytes;
    });
    const metrics = prometheusMetrics(job.ctx, { prefix: 'fraud_' });
    await twoBatches(job);
    const m = await scrape(() => metrics.text());
    await job.ctx.stop();
    expect(commits).toHaveLength(2);
    expect(commits.every((c) => c.operations > 0 && c.bytes > 0)).toBe(true);
    const last = commits[1]!;
    expect(valueOf(m, 'fraud_checkpoint_commit_seconds_count', { job: 'sluice' })).toBe(2);
    expect(valueOf(m, 'fraud_checkpoint_commit_bytes', { job: 'sluice' })).toBe(last.bytes);
    expect(valueOf(m, 'fraud_checkpoint_commit_operations', { job: 'sluice' })).toBe(last.operations);
    // A LevelDB store knows its rows' bytes (the memory store does not report them).
    expect(stateBytes).toBeGreaterThan(0);
    expect(valueOf(m, 'fraud_state_bytes', { job: 'sluice', operator: 'cardStats' })).toBe(stateBytes);
  });

  it('counts a failed batch and the stop', async () => {
    const job = fraudJob({ failOn: 'z' });
    const metrics = prometheusMetrics(job.ctx);
    job.payments.push('{"card":"z","amount":1,"t":95000}');
    await job.ctx.start();
    await job.clock.advance(1000);
    await expect(job.ctx.awaitTermination()).rejects.toThrow(/blocked/);
    const m = await scrape(() => metrics.text());
    expect(valueOf(m, 'sluice_batches_failed_total', { job: 'sluice' })).toBe(1);
    expect(valueOf(m, 'sluice_batches_completed_total', { job: 'sluice' })).toBe(0);
    expect(valueOf(m, 'sluice_running', { job: 'sluice' })).toBe(0);
  });

  it('keeps one series per job when two contexts share a registry', async () => {
    const registry = new Registry();
    const first = fraudJob();
    const second = fraudJob();
    prometheusMetrics(first.ctx, { registry, job: 'one' });
    prometheusMetrics(second.ctx, { registry, job: 'two' });
    await twoBatches(first);
    const m = parsePrometheusText(await registry.metrics());
    await first.ctx.stop();
    expect(valueOf(m, 'sluice_batches_completed_total', { job: 'one' })).toBe(2);
    expect(valueOf(m, 'sluice_batches_completed_total', { job: 'two' })).toBe(0);
  });

  it('answers GET /metrics with the same text format', async () => {
    const job = fraudJob();
    const monitor = await serveMonitor(job.ctx, { dashboard: false, metrics: prometheusMetrics(job.ctx, { job: 'http' }) });
    await twoBatches(job);
    const res = await fetch(`${monitor.url}metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    const m = parsePrometheusText(await res.text());
    expect(valueOf(m, 'sluice_batches_completed_total', { job: 'http' })).toBe(2);
    await job.ctx.stop();
    await monitor.close();
  });

  it('counts duplicates dropped per operator, and reports each source\'s backpressure limit and estimated rate', async () => {
    const clock = new VirtualClock();
    const ctx = new StreamingContext({ batchInterval: 100, clock, backpressure: { initialRate: 5000 } });
    ctx
      .rateStream({ rowsPerSecond: 20_000, name: 'rate' })
      .pipe(
        map((r) => {
          clock.spend(0.1);
          return r.value % 7;
        }),
        dropDuplicates((n: number) => n, { within: 1000, name: 'dedup' }),
        foreachBatch(() => undefined),
      );
    const metrics = prometheusMetrics(ctx, { job: 'bp' });
    const progress: BatchProgress[] = [];
    ctx.addListener((e) => {
      if (e.type === 'batchCompleted') progress.push(e.progress);
    });
    await ctx.start();
    await clock.runUntil(500);
    const m = await scrape(() => metrics.text());
    await ctx.stop();
    const last = progress[progress.length - 1]?.sources[0];
    expect(m.get('sluice_duplicates_dropped_total')?.type).toBe('counter');
    expect(valueOf(m, 'sluice_duplicates_dropped_total', { job: 'bp', operator: 'dedup' })).toBe(progress.reduce((n, p) => n + p.numDuplicatesDropped, 0));
    expect(valueOf(m, 'sluice_source_rate_limit_records', { job: 'bp', source: 'rate' })).toBe(last?.rateLimit);
    expect(valueOf(m, 'sluice_source_estimated_rate_records_per_second', { job: 'bp', source: 'rate' })).toBe(last?.estimatedRate);
    expect(last?.estimatedRate).toBeGreaterThan(0);
  });
});
