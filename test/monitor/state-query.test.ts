import { describe, expect, it } from 'vitest';
import { parseKeyArgument } from 'sluice/monitor';

describe('parseKeyArgument (key= and prefix= of the state API)', () => {
  it('reads a JSON number, string or array, and takes any other text as it is', () => {
    expect(parseKeyArgument('42')).toBe(42);
    expect(parseKeyArgument('"42"')).toBe('42');
    expect(parseKeyArgument('card-1')).toBe('card-1');
    expect(parseKeyArgument('"card-1"')).toBe('card-1');
    expect(parseKeyArgument('["card-1",7]')).toEqual(['card-1', 7]);
    // JSON that is not a key's shape stays text.
    expect(parseKeyArgument('true')).toBe('true');
    expect(parseKeyArgument('null')).toBe('null');
    expect(parseKeyArgument('{"a":1}')).toBe('{"a":1}');
    expect(parseKeyArgument('')).toBe('');
  });
});
