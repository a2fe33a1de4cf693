import { describe, expect, it } from 'vitest';
import { StreamingContext, type Pair } from 'sluice';
import type { TaskContext, TaskStep, TaskWire } from 'sluice/extend';
import { defineSlideStep, type SlideInput } from '../../../windows/batch-time/window-tasks.js';

/*
 * The incremental window's slide task on the wire, step by step: the driver's side of one graph's
 * step and a worker's side of another's (as the SerializingExecutor and the pool use them).
 */

type Step = TaskStep<SlideInput<string, number>, Pair<string, number>[]>;
const sum = (a: number, b: number): number => a + b;
const minus = (a: number, b: number): number => a - b;
const context = undefined as unknown as TaskContext;

function stepOf(): Step {
  const ctx = new StreamingContext({ batchInterval: 1000 });
  return defineSlideStep<string, number>(ctx.queueStream<number>([]), { reduce: sum, inverse: minus, filter: ([, n]) => n !== 0 }).step;
}

function input(window: readonly Pair<string, number>[], entered: [number, Pair<string, number>[]][], left: [number, Pair<string, number>[]][]): SlideInput<string, number> {
  return {
    partition: 0,
    window,
    entered: entered.map(([, part]) => part),
    left: left.map(([, part]) => part),
    enteredTimes: entered.map(([t]) => t),
    leftTimes: left.map(([t]) => t),
    held: () => ({ parts: [], times: [] }),
    undo: undefined,
    next: undefined,
  };
}

/** Sends `driverInput` from the driver's step to the worker's, runs it there, and gives the driver the reply (or `'missed'`). */
function send(driver: Step, worker: Step, driverInput: SlideInput<string, number>): Pair<string, number>[] | 'missed' {
  const [out, back] = [driver.wire as TaskWire<SlideInput<string, number>, Pair<string, number>[]>, worker.wire as TaskWire<SlideInput<string, number>, Pair<string, number>[]>];
  const workerInput = back.receiveInput(structuredClone(out.sendInput(driverInput)));
  const reply = structuredClone(back.sendResult(worker.run(workerInput, context), workerInput));
  if (out.missed?.(reply, driverInput) === true) return 'missed';
  const result = out.receiveResult(reply, driverInput);
  out.ranOn?.(driverInput, 0);
  return result;
}

describe('the incremental window slide on the wire', () => {
  it('keeps the window and its partials on the worker, takes the leaving ones from there, and answers missed when one is not there', () => {
    const [driver, worker] = [stepOf(), stepOf()];
    const first = input([], [[1000, [['a', 1], ['b', 2]]]], []);
    expect(send(driver, worker, first)).toEqual([['a', 1], ['b', 2]]);
    expect(driver.wire?.shipped?.(first)).toEqual({ rows: 0, cached: 0 });

    // The worker holds the window: only the entering partial travels; 'a' leaves from its cache.
    const second = input(first.next as Pair<string, number>[], [[2000, [['b', 5], ['c', 1]]]], [[1000, [['a', 1], ['b', 2]]]]);
    const payload = driver.wire?.sendInput(second) as { whole?: unknown; entered: unknown };
    expect(payload.whole).toBeUndefined();
    expect(payload.entered).toEqual([[['b', 5], ['c', 1]]]);
    expect(send(driver, worker, second)).toEqual([['b', 5], ['c', 1]]);
    // The send whose result was taken left the window's 2 keys out (the probe above was a send too).
    expect(driver.wire?.shipped?.(second)).toEqual({ rows: 0, cached: 2 });

    // A leaving batch the worker never got (a gap): missed, and the next send is whole.
    const third = input(second.next as Pair<string, number>[], [[3000, [['c', 1]]]], [[1500, [['b', 1]]]]);
    expect(send(driver, worker, third)).toBe('missed');
    const again = input(second.next as Pair<string, number>[], [[3000, [['c', 1]]]], [[1500, [['b', 1]]]]);
    expect((driver.wire?.sendInput(again) as { whole?: unknown }).whole).toBeDefined();
  });

  it('moves the driver’s map in place inline and records how to take it back; the worker never gets the driver’s map', () => {
    const step = stepOf();
    const first = input([], [[1000, [['a', 1]]]], []);
    step.run(first, context);
    const map = first.next;
    const second = input([], [], []);
    const inPlace = { ...second, window: map as NonNullable<typeof map> };
    expect(step.run(inPlace, context)).toEqual([['a', 1]]);
    expect(inPlace.next).toBe(map);
    expect(inPlace.undo).toBeDefined();
  });
});
