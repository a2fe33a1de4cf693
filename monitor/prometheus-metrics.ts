import { Counter, Gauge, Histogram, Registry, type RegistryContentType } from 'prom-client';
import type { BatchProgress, StreamingContext, StreamingEvent } from 'sluice';
import { batchBuckets } from './metric-buckets.js';

/** Options of {@link prometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /** The registry to register the metrics in; a new one by default (not prom-client's global registry). */
  readonly registry?: Registry<RegistryContentType>;
  /** Put before every metric name; `'sluice_'` by default. */
  readonly prefix?: string;
  /** The value of every metric's `job` label; `'sluice'` by default. Give each context in one registry its own. */
  readonly job?: string;
}

/** The metrics of one streaming context, registered by {@link prometheusMetrics}. */
export interface PrometheusMetrics {
  /** The registry that holds them. */
  readonly registry: Registry<RegistryContentType>;
  /** The `job` label of this context's series. */
  readonly job: string;
  /** Every metric of the registry in Prometheus' text format (what `GET /metrics` answers). */
  text(): Promise<string>;
  /** Stops updating the metrics (they stay registered, with their last values). */
  close(): void;
}

/**
 * Registers a streaming context's metrics with `prom-client` and keeps them up to date from its
 * listener events: once per batch, never per record. Names follow Prometheus' conventions (base
 * units, `_total` counters, `_seconds` durations); every series has the label `job`, and those of
 * a source, an operator or a watermarked stream its name. The duration histograms' buckets are
 * fractions and multiples of the batch interval. docs/monitoring.md lists every metric.
 *
 * @param ctx - the context to observe; call before or after `start()`.
 * @throws TypeError when `options.registry` already holds a metric of one of these names but of another type.
 * @example
 * const metrics = prometheusMetrics(ctx, { job: 'fraud' });
 * const text = await metrics.text(); // sluice_batches_completed_total{job="fraud"} 42 ...
 */
export function prometheusMetrics(ctx: StreamingContext, options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const registry: Registry<RegistryContentType> = options.registry ?? new Registry();
  const prefix = options.prefix ?? 'sluice_';
  const job = options.job ?? 'sluice';
  const buckets = batchBuckets(ctx.batchInterval);
  const make = metricMaker(registry, prefix);
  const m = {
    completed: make.counter('batches_completed_total', 'Batches completed (committed).'),
    failed: make.counter('batches_failed_total', 'Batches that failed (nothing of them committed).'),
    lastBatch: make.gauge('last_completed_batch_id', 'The id of the last completed batch.'),
    interval: make.gauge('batch_interval_seconds', 'The batch interval.'),
    running: make.gauge('running', '1 while the context runs, 0 once it stopped.'),
    input: make.counter('input_records_total', 'Records read, per source.', ['source']),
    bad: make.counter('bad_records_total', 'Records a source could not parse, per source.', ['source']),
    sourceRetries: make.counter('source_retries_total', 'Source calls tried again after a transient failure, per source.', ['source']),
    rateLimit: make.gauge('source_rate_limit_records', 'With backpressure: the most records the last batch could take from the source.', ['source']),
    estimatedRate: make.gauge('source_estimated_rate_records_per_second', 'With backpressure: the rate the source\'s controller estimates the job sustains.', ['source']),
    processing: make.histogram('batch_processing_seconds', 'How long a batch took, from planning to commit.', buckets),
    scheduling: make.histogram('batch_scheduling_delay_seconds', 'How long after its batch time a batch started.', buckets),
    total: make.histogram('batch_total_delay_seconds', 'Scheduling delay plus processing time.', buckets),
    watermark: make.gauge('watermark_seconds', 'The watermark of a watermarked stream, as a Unix time.', ['stream']),
    watermarkLag: make.gauge('watermark_lag_seconds', 'How far a watermarked stream\'s watermark is behind its batch time.', ['stream']),
    late: make.counter('late_records_dropped_total', 'Records an operator dropped as late.', ['operator']),
    duplicates: make.counter('duplicates_dropped_total', 'Records an operator dropped as duplicates (dropDuplicates).', ['operator']),
    skipped: make.counter('skipped_records_total', 'Records an operator skipped because its function could not handle them.', ['operator']),
    deadLettered: make.counter('dead_lettered_records_total', 'Records an operator sent to the dead letters.', ['operator']),
    written: make.counter('records_written_total', 'Records a sink wrote to its external system.', ['operator']),
    retries: make.counter('operator_retries_total', 'Attempts a sink or operator retried after a transient failure.', ['operator']),
    stateRows: make.gauge('state_rows', 'Keys of state an operator holds.', ['operator']),
    stateBytes: make.gauge('state_bytes', 'Approximate bytes of the rows an operator stores.', ['operator']),
    commit: make.histogram('checkpoint_commit_seconds', 'How long the atomic write of a batch\'s commit to the checkpoint took.', buckets),
    commitBytes: make.gauge('checkpoint_commit_bytes', 'The bytes of the last batch\'s atomic write to the checkpoint.'),
    commitOps: make.gauge('checkpoint_commit_operations', 'The operations of the last batch\'s atomic write to the checkpoint.'),
  };
  const jobOnly = { job };
  m.interval.set(jobOnly, ctx.batchInterval / 1000);
  m.running.set(jobOnly, ctx.state === 'active' ? 1 : 0);
  const completed = (p: BatchProgress): void => {
    m.completed.inc(jobOnly);
    m.lastBatch.set(jobOnly, p.batchId);
    m.processing.observe(jobOnly, p.processingTimeMs / 1000);
    m.scheduling.observe(jobOnly, p.schedulingDelayMs / 1000);
    m.total.observe(jobOnly, p.totalDelayMs / 1000);
    for (const s of p.sources) {
      const labels = { job, source: s.source };
      m.input.inc(labels, s.inputRecords);
      m.bad.inc(labels, s.badRecords);
      if (s.retries !== undefined) m.sourceRetries.inc(labels, s.retries);
      if (s.rateLimit !== undefined) m.rateLimit.set(labels, s.rateLimit);
      if (s.estimatedRate !== undefined) m.estimatedRate.set(labels, s.estimatedRate);
    }
    for (const e of p.eventTime) {
      if (e.watermark === undefined) continue;
      const labels = { job, stream: e.stream };
      m.watermark.set(labels, e.watermark / 1000);
      m.watermarkLag.set(labels, Math.max(0, p.batchTime - e.watermark) / 1000);
    }
    for (const o of p.operators) {
      const labels = { job, operator: o.operator };
      if (o.lateRecordsDropped !== undefined) m.late.inc(labels, o.lateRecordsDropped);
      if (o.duplicatesDropped !== undefined) m.duplicates.inc(labels, o.duplicatesDropped);
      if (o.skippedRecords !== undefined) m.skipped.inc(labels, o.skippedRecords);
      if (o.deadLetteredRecords !== undefined) m.deadLettered.inc(labels, o.deadLetteredRecords);
      if (o.recordsWritten !== undefined) m.written.inc(labels, o.recordsWritten);
      if (o.retries !== undefined) m.retries.inc(labels, o.retries);
      if (o.stateRows !== undefined) m.stateRows.set(labels, o.stateRows);
      if (o.stateBytes !== undefined) m.stateBytes.set(labels, o.stateBytes);
    }
    if (p.checkpointCommit !== undefined) {
      m.commit.observe(jobOnly, p.checkpointCommit.durationMs / 1000);
      m.commitBytes.set(jobOnly, p.checkpointCommit.bytes);
      m.commitOps.set(jobOnly, p.checkpointCommit.operations);
    }
  };
  const listener = (event: StreamingEvent): void => {
    switch (event.type) {
      case 'batchCompleted':
        completed(event.progress);
        return;
      case 'batchFailed':
        m.failed.inc(jobOnly);
        return;
      case 'contextStarted':
        m.running.set(jobOnly, 1);
        return;
      case 'contextStopped':
        m.running.set(jobOnly, 0);
        return;
      case 'batchStarted':
        return;
    }
  };
  // Every series of this job exists from the start, so a rate over a counter that never moved is 0, not absent.
  m.completed.inc(jobOnly, 0);
  m.failed.inc(jobOnly, 0);
  for (const histogram of [m.processing, m.scheduling, m.total]) histogram.zero(jobOnly);
  const close = ctx.addListener(listener);
  return { registry, job, text: () => registry.metrics(), close };
}

/**
 * Makes (or, in a registry another context already filled, finds) each metric; the `job` label is
 * always first. A registry shared by several contexts holds one metric per name, one series per job.
 */
function metricMaker(registry: Registry<RegistryContentType>, prefix: string) {
  const find = <M>(Kind: abstract new (...args: never[]) => M, name: string): M | undefined => {
    const existing = registry.getSingleMetric(name);
    if (existing === undefined || existing instanceof Kind) return existing;
    throw new TypeError(`prometheusMetrics: the registry already holds a metric ${name} of another type; give this context another prefix or registry.`);
  };
  const config = <L extends string>(name: string, help: string, labels: readonly L[]) => ({ name: prefix + name, help, labelNames: ['job' as const, ...labels], registers: [registry] });
  return {
    counter: <L extends string>(name: string, help: string, labels: readonly L[] = []): Counter<L | 'job'> =>
      find(Counter<L | 'job'>, prefix + name) ?? new Counter<L | 'job'>(config(name, help, labels)),
    gauge: <L extends string>(name: string, help: string, labels: readonly L[] = []): Gauge<L | 'job'> =>
      find(Gauge<L | 'job'>, prefix + name) ?? new Gauge<L | 'job'>(config(name, help, labels)),
    histogram: (name: string, help: string, buckets: number[]): Histogram<'job'> =>
      find(Histogram<'job'>, prefix + name) ?? new Histogram<'job'>({ ...config<never>(name, help, []), buckets }),
  };
}
