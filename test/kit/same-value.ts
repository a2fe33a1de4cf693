import { AssertionError } from 'node:assert';

/**
 * Asserts that `actual` is the same value as `expected`, more strictly than a deep equality:
 * primitives compare with `Object.is` (so `-0` is not `0`, and `NaN` is `NaN`), objects must have
 * the same prototype and the same own keys in the same order (an own `__proto__` key included),
 * `Map` and `Set` the same entries in the same order, `Date` the same time, typed arrays the same
 * bytes.
 *
 * @throws AssertionError naming the path of the first difference.
 * @example assertSameValue(decodeValue(encodeValue(value)), value);
 */
export function assertSameValue(actual: unknown, expected: unknown, path = 'value'): void {
  if (typeof actual !== 'object' || actual === null || typeof expected !== 'object' || expected === null) {
    if (!Object.is(actual, expected)) fail(path, actual, expected, 'different values');
    return;
  }
  if (Object.getPrototypeOf(actual) !== Object.getPrototypeOf(expected)) fail(path, actual, expected, 'different prototypes');
  if (actual instanceof Date) {
    if (!Object.is(actual.getTime(), (expected as Date).getTime())) fail(path, actual, expected, 'different times');
  } else if (ArrayBuffer.isView(actual)) {
    const e = expected as ArrayBufferView;
    if (!Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(Buffer.from(e.buffer, e.byteOffset, e.byteLength))) {
      fail(path, actual, expected, 'different bytes');
    }
  } else if (actual instanceof Map || actual instanceof Set) {
    sameEntries(actual, expected as Map<unknown, unknown> | Set<unknown>, path);
  }
  const keys = Reflect.ownKeys(actual);
  const expectedKeys = Reflect.ownKeys(expected);
  if (keys.length !== expectedKeys.length || keys.some((key, i) => key !== expectedKeys[i])) {
    fail(path, keys.map(String), expectedKeys.map(String), 'different own keys');
  }
  for (const key of keys) {
    const a = Object.getOwnPropertyDescriptor(actual, key);
    const e = Object.getOwnPropertyDescriptor(expected, key);
    assertSameValue(a?.value, e?.value, `${path}[${typeof key === 'symbol' ? key.toString() : JSON.stringify(key)}]`);
  }
}

function sameEntries(actual: Map<unknown, unknown> | Set<unknown>, expected: Map<unknown, unknown> | Set<unknown>, path: string): void {
  if (actual.size !== expected.size) fail(`${path}.size`, actual.size, expected.size, 'different sizes');
  const a = [...actual.entries()];
  const e = [...expected.entries()];
  for (let i = 0; i < a.length; i++) {
    const [ak, av] = a[i] as [unknown, unknown];
    const [ek, ev] = e[i] as [unknown, unknown];
    assertSameValue(ak, ek, `${path}.entry(${i}).key`);
    assertSameValue(av, ev, `${path}.entry(${i}).value`);
  }
}

function fail(path: string, actual: unknown, expected: unknown, what: string): never {
  throw new AssertionError({ message: `${path}: ${what}`, actual, expected, operator: 'assertSameValue' });
}
