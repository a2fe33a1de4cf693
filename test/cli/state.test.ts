import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from 'sluice';
import { parseKeyArgument, readContextState, stateToJson } from 'sluice/checkpoint';
import { useTempDir } from '../support/temp-dir.js';
import { cli, countingContext, makeCheckpoint, sluice, standInMonitor } from './cli-harness.js';

const dir = useTempDir();
const checkpoint = (): string => join(dir(), 'ckpt');

describe('sluice state', () => {
  it("prints every entry of an operator's committed state (the built bin), one key, a prefix, a limit", async () => {
    await makeCheckpoint(checkpoint(), 3); // records 0..11
    const all = await sluice(['state', checkpoint(), 'counts']);
    expect(all).toMatchObject({ code: 0, stderr: '' });
    expect(all.out).toBe(['counts (updateStateByKey) at batch 2: 3 entries', '  "user-0" = 4', '  "user-1" = 4', '  "user-2" = 4'].join('\n'));
    expect((await cli(['state', checkpoint(), 'counts', '--key', 'user-2'])).out).toBe('counts (updateStateByKey) at batch 2: 1 entry\n  "user-2" = 4');
    expect((await cli(['state', checkpoint(), 'counts', '--prefix', 'user-'])).out.split('\n')).toHaveLength(4);
    expect((await cli(['state', checkpoint(), 'counts', '--limit', '2'])).out).toBe(
      'counts (updateStateByKey) at batch 2: 2 entries (more match: raise --limit, or narrow with --key or --prefix)\n  "user-0" = 4\n  "user-1" = 4',
    );
    // Array keys: --key and --prefix as JSON.
    expect((await cli(['state', checkpoint(), 'cards', '--key', '["card",1]'])).out).toBe('cards (mapWithState) at batch 2: 1 entry\n  ["card",1] = 11');
    expect((await cli(['state', checkpoint(), 'cards', '--prefix', '["card"]'])).out).toBe('cards (mapWithState) at batch 2: 2 entries\n  ["card",0] = 10\n  ["card",1] = 11');
  });

  it('prints JSON with --json', async () => {
    await makeCheckpoint(checkpoint(), 2);
    const { code, out } = await cli(['state', checkpoint(), 'counts', '--json', '--limit', '1']);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ operator: 'counts', kind: 'updateStateByKey', batchId: 1, entries: [{ key: 'user-0', value: 3 }], more: true });
  });

  it('exits 1 for an unknown operator, listing the operators', async () => {
    await makeCheckpoint(checkpoint(), 1);
    expect(await cli(['state', checkpoint(), 'sessions'])).toEqual({
      code: 1,
      out: '',
      err: `sluice state: The checkpoint at ${checkpoint()} holds no stateful operator named 'sessions'; it holds: counts (updateStateByKey), cards (mapWithState).`,
    });
  });

  it('exits 2 for arguments to change: a missing operator, --key with --prefix, a limit that is not a positive integer', async () => {
    const cases: [string[], RegExp][] = [
      [['state', 'ckpt'], /^error: missing required argument 'operator'/],
      [['state', 'ckpt', 'counts', '--key', 'a', '--prefix', 'a'], /^error: option '--key <key>' cannot be used with option '--prefix <prefix>'/],
      [['state', 'ckpt', 'counts', '--limit', '0'], /^error: option '--limit <n>' argument '0' is invalid\. give a positive integer, such as 20 \(got '0'\)\./],
      [['state', 'ckpt', 'counts', '--limit', 'ten'], /is invalid\. give a positive integer/],
      [['state', 'ckpt', 'counts', '--prefix', '42'], /^sluice state: --prefix 42: a prefix is a string or an array of key parts; for the string, give '"42"'\.\n\(see sluice state --help\)$/],
      [['state', 'ckpt', 'counts', '--key', '[{"a":1}]'], /^sluice state: --key \[\{"a":1\}\] is not a key: /],
    ];
    for (const [argv, message] of cases) {
      const result = await cli(argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.err, argv.join(' ')).toMatch(message);
    }
    expect((await cli(['state', '--help'])).out).toMatch(/Examples:\n {2}sluice state \.\/ckpt counts --key user-42/);
  });

  it("reads a running job's state through its monitor's /api/state/<operator>, passing key, prefix and limit as given; without a monitor says how to serve one", async () => {
    const clock = new ManualClock();
    const ctx = countingContext(checkpoint(), clock);
    await ctx.start();
    await clock.advance(2000);
    try {
      const none = await cli(['state', checkpoint(), 'counts']);
      expect(none).toMatchObject({ code: 1, err: expect.stringMatching(/^sluice state: The checkpoint at .* is in use by a running job \(LevelDB's lock is held\), which serves no monitor\. Serve its monitor/) as unknown });
      const monitor = await standInMonitor(checkpoint(), undefined, async (url) => {
        const operator = decodeURIComponent(url.pathname.slice('/api/state/'.length));
        const key = url.searchParams.get('key');
        const limit = url.searchParams.get('limit');
        return JSON.parse(stateToJson(await readContextState(ctx, operator, { ...(key === null ? {} : { key: parseKeyArgument(key) }), ...(limit === null ? {} : { limit: Number(limit) }) }))) as unknown;
      });
      try {
        expect(await cli(['state', checkpoint(), 'cards', '--key', '["card",0]', '--limit', '5'])).toEqual({ code: 0, out: 'cards (mapWithState) at batch 1: 1 entry\n  ["card",0] = 6', err: '' });
        expect(monitor.requests).toEqual([`/api/state/cards?key=${encodeURIComponent('["card",0]')}&limit=5`]);
        expect(JSON.parse((await cli(['state', checkpoint(), 'counts', '--json'])).out)).toMatchObject({ operator: 'counts', entries: [{ key: 'user-0', value: 3 }, { key: 'user-1' }, { key: 'user-2' }] });
        expect(await cli(['state', checkpoint(), 'nope'])).toMatchObject({ code: 1, err: expect.stringMatching(/answered 404: The checkpoint at .* holds no stateful operator named 'nope'; it holds: counts/) as unknown });
      } finally {
        await monitor.close();
      }
    } finally {
      await ctx.stop();
    }
  });
});

describe('key arguments and JSON', () => {
  it('parse a key as JSON when it is a JSON number, string or array, else as the raw string', () => {
    expect(parseKeyArgument('42')).toBe(42);
    expect(parseKeyArgument('"42"')).toBe('42');
    expect(parseKeyArgument('["card-1", 7]')).toEqual(['card-1', 7]);
    expect(parseKeyArgument('user-1')).toBe('user-1');
    expect(parseKeyArgument('{"a":1}')).toBe('{"a":1}');
    expect(parseKeyArgument('true')).toBe('true');
  });

  it('write what JSON cannot carry readably', () => {
    expect(stateToJson({ n: 12n, m: new Map([['a', 1]]), s: new Set([1]), b: new Uint8Array([1, 255]), d: new Date(0), u: undefined })).toBe(
      '{"n":"12n","m":{"$map":[["a",1]]},"s":{"$set":[1]},"b":{"$bytes":"01ff"},"d":"1970-01-01T00:00:00.000Z","u":null}',
    );
  });
});
