import { StreamingContext, flatMap, foreachBatch, mapToPair, reduceByKey } from 'sluice';

// A batch is cut every 500 ms.
const ctx = new StreamingContext({ batchInterval: '500ms' });

// Each array is one batch of lines. Real jobs read files, sockets or generators instead.
const lines = ctx.queueStream<string>([
  ['the quick brown fox', 'jumps over the lazy dog'],
  ['the dog barks', 'the fox runs'],
]);

// Operators are plain functions composed with pipe; types flow through them.
lines.pipe(
  flatMap((line) => line.split(' ')),
  mapToPair((word) => [word, 1]),
  reduceByKey((a, b) => a + b),
  foreachBatch((counts, { batchId }) => {
    const text = counts.map(([word, n]) => `${word}=${n}`).join(' ');
    console.log(`batch ${batchId}: ${text}`);
  }),
);

await ctx.start();
// Finish the data already queued, then stop.
await ctx.stop({ graceful: true });
console.log('done');
