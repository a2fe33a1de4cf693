import { runWordCount } from './job.js';

/** `npm run example:word-count`: word count over a socket, served by the example itself. */
const result = await runWordCount({
  log: (line) => {
    console.log(line);
  },
});

console.log('\nWord totals:');
for (const [word, n] of result.totals) console.log(`  ${word.padEnd(10)} ${n}`);
console.log(`\n${result.lines.length} lines counted in ${result.batches} batches.`);
