import { describe, expect, it } from 'vitest';
import { ManualClock } from 'sluice';

describe('ManualClock', () => {
  it('runs due tasks in time order, including tasks scheduled by tasks within the window', async () => {
    const clock = new ManualClock(0);
    const ran: string[] = [];
    clock.schedule(300, () => void ran.push('c@300'));
    clock.schedule(100, () => {
      ran.push(`a@${clock.now()}`);
      clock.schedule(200, () => void ran.push(`b@${clock.now()}`));
      clock.schedule(900, () => void ran.push('late'));
    });
    await clock.advance(500);
    expect(ran).toEqual(['a@100', 'b@200', 'c@300']);
    expect(clock.now()).toBe(500);
  });

  it('waits for async tasks and queues overlapping advances', async () => {
    const clock = new ManualClock();
    const ran: number[] = [];
    clock.schedule(10, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      ran.push(clock.now());
    });
    clock.schedule(20, () => void ran.push(clock.now()));
    const first = clock.advance(15);
    const second = clock.advance(10);
    await first;
    expect(ran).toEqual([10]);
    await second;
    expect(ran).toEqual([10, 20]);
    expect(clock.now()).toBe(25);
  });

  it('cancels, moves to absolute times, and never goes backwards', async () => {
    const clock = new ManualClock(100);
    const ran: number[] = [];
    const cancel = clock.schedule(150, () => void ran.push(1));
    cancel();
    clock.schedule(50, () => void ran.push(2));
    await clock.settle();
    expect(ran).toEqual([2]);
    await clock.advanceTo(80);
    expect(clock.now()).toBe(100);
    await clock.advanceTo(200);
    expect(clock.now()).toBe(200);
    expect(ran).toEqual([2]);
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });
});
