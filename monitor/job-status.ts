import type { BatchProgress, SluiceError, StreamingContext, StreamingEvent } from 'sluice';

/** How many completed batches the monitor keeps (for `/api/progress` and the dashboard's table). */
export const HISTORY_SIZE = 100;

/** A failure as the monitor shows it. */
export interface MonitorFailure {
  /** The SluiceError's code. */
  readonly code: string;
  readonly message: string;
  /** The failed batch, when a batch failed. */
  readonly batchId?: number;
  readonly batchTime?: number;
  /** The operator that failed, when the error names one. */
  readonly operator?: string;
  /** The source involved, when the error names one. */
  readonly source?: string;
}

/** What `GET /api/progress` answers, and the dashboard's first event. */
export interface MonitorSnapshot {
  readonly status: 'starting' | 'running' | 'stopped' | 'failed';
  /** Ms since the context started (by its clock), frozen once it stopped. */
  readonly uptimeMs: number;
  readonly batchIntervalMs: number;
  /** The error the context failed with (`status: 'failed'`), or the last failed batch's. */
  readonly error: MonitorFailure | undefined;
  /** The last {@link HISTORY_SIZE} completed batches' progress, oldest first. */
  readonly batches: readonly BatchProgress[];
}

/** Follows a context's events: its status, its last batches, its last failure. Updated once per batch. */
export class JobStatus {
  readonly #ctx: StreamingContext;
  readonly #batches: BatchProgress[] = [];
  #startedAt: number | undefined;
  #stoppedAt: number | undefined;
  #error: MonitorFailure | undefined;

  constructor(ctx: StreamingContext) {
    this.#ctx = ctx;
    if (ctx.state !== 'initialized') this.#startedAt = ctx.zeroTime ?? ctx.clock.now();
    if (ctx.state === 'stopped') this.#stoppedAt = ctx.clock.now();
    if (ctx.failure !== undefined) this.#error = failureOf(ctx.failure);
  }

  /** Takes in one event; call from the context's listener. */
  update(event: StreamingEvent): void {
    switch (event.type) {
      case 'contextStarted':
        this.#startedAt = this.#ctx.clock.now();
        return;
      case 'batchCompleted':
        if (this.#batches.push(event.progress) > HISTORY_SIZE) this.#batches.shift();
        return;
      case 'batchFailed':
        this.#error = { ...failureOf(event.error), batchId: event.batchId, batchTime: event.batchTime };
        return;
      case 'contextStopped':
        this.#stoppedAt = this.#ctx.clock.now();
        if (event.error !== undefined && this.#error?.message !== event.error.message) this.#error = failureOf(event.error);
        return;
      case 'batchStarted':
        return;
    }
  }

  get status(): MonitorSnapshot['status'] {
    if (this.#stoppedAt !== undefined) return this.#ctx.failure === undefined ? 'stopped' : 'failed';
    return this.#startedAt === undefined ? 'starting' : 'running';
  }

  get error(): MonitorFailure | undefined {
    return this.#error;
  }

  snapshot(): MonitorSnapshot {
    const now = this.#stoppedAt ?? this.#ctx.clock.now();
    return {
      status: this.status,
      uptimeMs: this.#startedAt === undefined ? 0 : Math.max(0, now - this.#startedAt),
      batchIntervalMs: this.#ctx.batchInterval,
      error: this.#error,
      batches: this.#batches.slice(),
    };
  }
}

function failureOf(error: SluiceError): MonitorFailure {
  return {
    code: error.code,
    message: error.message,
    ...(error.batchId === undefined ? {} : { batchId: error.batchId }),
    ...(error.batchTime === undefined ? {} : { batchTime: error.batchTime }),
    ...(error.operator === undefined ? {} : { operator: error.operator }),
    ...(error.source === undefined ? {} : { source: error.source }),
  };
}
