import fc from 'fast-check';
import { expect, it } from 'vitest';
import { JetStreamSource, type JetStreamRecord } from 'sluice/nats';
import { ManualClock, StreamingContext } from 'sluice';
import { describeWith, NATS, NATS_URL } from '../../support/services.js';
import { newStream, publish } from './nats-harness.js';

/*
 * The source's read law on the live server, over random streams: the messages are published on
 * subjects a, b and c; for any subject filter (none, one subject or two) and any maxRecords,
 * consecutive ranges from `latestOffset` hold at most maxRecords messages each and together every
 * matching message once, in sequence order; and reading a range again (as a replay does) gives
 * the same records. A failure prints its seed (FC_SEED replays it).
 */

const subject = fc.constantFrom('a', 'b', 'c');
const filter = fc.constantFrom<readonly string[]>([], ['b'], ['a', 'c']);

await describeWith(NATS, 'jetStreamSource read law (property, live server)', () => {
  it('consecutive ranges hold at most maxRecords matching messages and together each matching message once, replays alike', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(subject, { maxLength: 25 }), filter, fc.integer({ min: 1, max: 7 }), async (subjects, wanted, max) => {
        const stream = await newStream('law');
        for (const [i, s] of subjects.entries()) await publish(`${stream}.${s}`, [String(i)]);
        const source = new JetStreamSource<number>({ servers: NATS_URL, stream, format: 'json', subjects: wanted.map((s) => `${stream}.${s}`) });
        const clock = new ManualClock();
        await source.start({ clock, logger: new StreamingContext({ batchInterval: 1000, clock }).logger, name: 'law' });
        try {
          const read: JetStreamRecord<number>[] = [];
          let start = source.initialOffset();
          for (let n = 0; n <= subjects.length; n++) {
            const end = await source.latestOffset(start, max);
            if (end === start) break;
            const first = await source.read(start, end);
            expect(first.records.length).toBeLessThanOrEqual(max);
            expect(await source.read(start, end)).toEqual(first);
            read.push(...first.records);
            start = end;
          }
          const expected = subjects.flatMap((s, i) => (wanted.length === 0 || wanted.includes(s) ? [{ seq: i + 1, subject: `${stream}.${s}`, value: i }] : []));
          expect(read.map(({ seq, subject: sub, value }) => ({ seq, subject: sub, value }))).toEqual(expected);
        } finally {
          await source.stop();
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
