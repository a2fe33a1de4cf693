import { describe, expect, it } from 'vitest';
import type { DurationLike, Key } from 'sluice';
import { session } from '../../../windows/event-time/session-windows.js';

describe('session', () => {
  it('has a constant gap when given a duration', () => {
    const a = session('30m');
    expect(a.kind).toBe('session');
    expect(a.gapOf('user-1')).toBe(1_800_000);
    expect(a.gapOf(['user', 2])).toBe(1_800_000);
    expect(session(2.5).gapOf('k')).toBe(2.5);
  });

  it('asks the function for each key, accepting any duration', () => {
    const a = session((key) => (String(key).startsWith('bot-') ? '1m' : 30 * 60_000));
    expect(a.gapOf('bot-7')).toBe(60_000);
    expect(a.gapOf('user-1')).toBe(1_800_000);
  });

  it.each<[string, DurationLike]>([
    ['zero', 0],
    ['a negative gap', -5],
    ['a word', 'later'],
    ['NaN', Number.NaN],
  ])('rejects a constant gap of %s with a RangeError quoting it', (_what, gap) => {
    expect(() => session(gap)).toThrow(RangeError);
    expect(() => session(gap)).toThrow(/^session window gap: /);
  });

  it.each<[Key, DurationLike, RegExp]>([
    ['user-1', 0, /session window gap for key "user-1": 0 must be greater than zero/],
    [['a', 1], 'later', /session window gap for key \["a",1\]: 'later' is not a valid duration/],
    [5n, -1, /session window gap for key "5n": -1 /],
  ])('rejects a bad gap from the function, naming the key (%s)', (key, gap, message) => {
    const a = session(() => gap);
    expect(() => a.gapOf(key)).toThrow(RangeError);
    expect(() => a.gapOf(key)).toThrow(message);
  });
});
