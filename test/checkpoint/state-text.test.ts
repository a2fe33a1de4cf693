import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseKeyArgument } from 'sluice/checkpoint';

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

describe('parseKeyArgument, as a law', () => {
  const part = fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)));
  it('gives back every string, number or array key from its JSON text', () => {
    fc.assert(
      fc.property(fc.oneof(part, fc.array(part, { maxLength: 4 })), (key) => {
        expect(parseKeyArgument(JSON.stringify(key))).toEqual(key);
      }),
    );
  });

  it('takes any text that is not such JSON as it is', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        fc.pre(typeof json !== 'number' && typeof json !== 'string' && !Array.isArray(json));
        expect(parseKeyArgument(text)).toBe(text);
      }),
    );
  });
});
