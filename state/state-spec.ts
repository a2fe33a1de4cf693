import { checkOnError, parsePositiveDuration, type StateBackend } from '../core/extend.js';
import type { Duration, DurationLike, Key, OnError, Pair, StaticDataset } from 'sluice';
import type { State } from './state-handle.js';
import { checkVersioning, FIRST_VERSION, type MigrateFunction, type StateVersioning } from './state-version.js';
import type { TimeDomain } from './state-layout.js';

/**
 * The function of `mapWithState`: called once per record of a key (in arrival order) with the
 * key's state, and once with `value` undefined when the key times out. What it returns is
 * emitted; `undefined` emits nothing.
 */
export type MappingFunction<K extends Key, V, S, M> = (key: K, value: V | undefined, state: State<S>) => M | undefined;

/** Called when a timer of a key fires; what it returns is emitted, `undefined` emits nothing. */
export type TimerFunction<K extends Key, S, M> = (key: K, timer: { readonly time: number; readonly domain: TimeDomain }, state: State<S>) => M | undefined;

/** Time-to-live of state entries: how long an entry lives after its last update. */
export interface StateTtl {
  readonly duration: Duration;
  /** Measured on batch (processing) time, or on the event-time watermark. */
  readonly timeDomain: TimeDomain;
}

/** The settings a {@link StateSpec} carries. */
export interface StateSpecSettings<K extends Key, S, M> {
  readonly timeout: Duration | undefined;
  readonly ttl: StateTtl | undefined;
  readonly initialState: StaticDataset<Pair<K, S>> | undefined;
  readonly numPartitions: number | undefined;
  readonly name: string | undefined;
  readonly onTimer: TimerFunction<K, S, M> | undefined;
  readonly stateBackend: StateBackend | undefined;
  readonly versioning: StateVersioning;
  /** What to do with a record (or timer) the functions cannot handle (see {@link StateSpec.onError}). */
  readonly onError: OnError | undefined;
}

/**
 * What `mapWithState` does, built like Spark's `StateSpec`: a mapping function and options.
 * Immutable: every method returns a new spec.
 *
 * @example
 * const spec = stateSpec((user: string, click: Click | undefined, state: State<Session>) => ...)
 *   .timeout('30m')
 *   .name('sessions');
 */
export class StateSpec<K extends Key, V, S, M> {
  /** The mapping function. */
  readonly fn: MappingFunction<K, V, S, M>;
  /** The options. */
  readonly settings: StateSpecSettings<K, S, M>;

  constructor(fn: MappingFunction<K, V, S, M>, settings: Partial<StateSpecSettings<K, S, M>> = {}) {
    if (typeof fn !== 'function') throw new TypeError('stateSpec: pass the mapping function (key, value, state) => mapped.');
    this.fn = fn;
    this.settings = {
      timeout: settings.timeout,
      ttl: settings.ttl,
      initialState: settings.initialState,
      numPartitions: settings.numPartitions,
      name: settings.name,
      onTimer: settings.onTimer,
      stateBackend: settings.stateBackend,
      versioning: settings.versioning ?? FIRST_VERSION,
      onError: settings.onError,
    };
  }

  /**
   * Removes a key after it has received no record for `idle`: at a batch time `t`, a key whose
   * last record arrived at a batch time older than `t - idle` is called once with `value`
   * undefined and `state.isTimingOut()` true, then removed.
   *
   * @throws RangeError for a duration that is not positive.
   */
  timeout(idle: DurationLike): StateSpec<K, V, S, M> {
    return this.#with({ timeout: parsePositiveDuration(idle, 'stateSpec timeout') });
  }

  /**
   * Expires an entry silently `duration` after its last update, measured on batch time
   * (`'processing'`, the default) or on the event-time watermark (`'event'`). An expired entry is
   * gone before the batch's records are processed: the function sees no state.
   */
  ttl(duration: DurationLike, options: { readonly timeDomain?: TimeDomain } = {}): StateSpec<K, V, S, M> {
    const timeDomain = options.timeDomain ?? 'processing';
    if (timeDomain !== 'processing' && timeDomain !== 'event') throw new TypeError(`stateSpec ttl: timeDomain must be 'processing' or 'event', got ${String(timeDomain)}.`);
    return this.#with({ ttl: { duration: parsePositiveDuration(duration, 'stateSpec ttl'), timeDomain } });
  }

  /** State to start from when the operator has no state yet (a first run). */
  initialState(data: StaticDataset<Pair<K, S>>): StateSpec<K, V, S, M> {
    return this.#with({ initialState: data });
  }

  /**
   * Partitions of the keyed state (default: the context's default parallelism).
   *
   * @throws RangeError when `n` is not a positive integer.
   */
  numPartitions(n: number): StateSpec<K, V, S, M> {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`stateSpec numPartitions: must be a positive integer, got ${n}.`);
    return this.#with({ numPartitions: n });
  }

  /** The operator's stable name: its state is stored and queried under it. */
  name(name: string): StateSpec<K, V, S, M> {
    if (typeof name !== 'string' || name === '') throw new TypeError('stateSpec name: must be a non-empty string.');
    return this.#with({ name });
  }

  /**
   * Keeps this operator's state on `backend` rather than on the context's default backend (not
   * with a checkpoint, which keeps every operator's state).
   */
  stateBackend(backend: StateBackend): StateSpec<K, V, S, M> {
    if (typeof backend !== 'object' || backend === null || typeof backend.open !== 'function') throw new TypeError('stateSpec stateBackend: pass a state backend such as new MemoryStateBackend() or await LevelStateBackend.open(path).');
    return this.#with({ stateBackend: backend });
  }

  /**
   * Declares the version of the state values (state schema evolution, as Flink's state
   * serializer upgrades): a value an older version wrote (version 1 before any was declared) is
   * brought to this one by `migrate(old, fromVersion)` when the operator reads it, and written back
   * at the next commit. A restart with a lower version than the checkpoint's is refused.
   *
   * @throws RangeError when `version` is not an integer of 1 or more; TypeError when `migrate` is
   * not a function.
   * @example stateSpec(fn).version(2, (old, from) => (from === 1 ? { count: old as number, sum: 0 } : old))
   */
  version(version: number, migrate: MigrateFunction): StateSpec<K, V, S, M> {
    return this.#with({ versioning: checkVersioning('stateSpec version', version, migrate) });
  }

  /**
   * What to do with a record the mapping function throws on, or whose key is not a key (and with
   * a timer or timeout call that throws): `'fail'` fails the batch; `'skip'` drops it and counts
   * it; `'deadLetter'` also sends it to `ctx.deadLetters` (the record `[key, value]`; for a timer
   * `[key, timer]`). What the failed call did to the key's state is undone; timers it set stay.
   * Default: the context's `onError`, `'fail'` unless set.
   *
   * @throws TypeError for anything but `'fail'`, `'skip'` or `'deadLetter'`.
   */
  onError(policy: OnError): StateSpec<K, V, S, M> {
    return this.#with({ onError: checkOnError('stateSpec onError', policy) });
  }

  /** What to do when a key's timer fires (see `State.setTimer`). */
  onTimer(fn: TimerFunction<K, S, M>): StateSpec<K, V, S, M> {
    return this.#with({ onTimer: fn });
  }

  #with(change: Partial<StateSpecSettings<K, S, M>>): StateSpec<K, V, S, M> {
    return new StateSpec(this.fn, { ...this.settings, ...change });
  }
}

/**
 * Starts a {@link StateSpec} from a mapping function.
 *
 * @example stateSpec((word: string, one: number | undefined, state: State<number>) => { ... })
 */
export function stateSpec<K extends Key, V, S, M>(fn: MappingFunction<K, V, S, M>): StateSpec<K, V, S, M> {
  return new StateSpec(fn);
}
