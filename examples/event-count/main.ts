import { runEventCount } from './job.js';

/** `npm start`: the demo job, with its progress and the totals it counted. */
const result = await runEventCount({
  log: (line) => {
    console.log(line);
  },
});

console.log('\nEvents by type:');
for (const [type, n] of result.totals) console.log(`  ${type.padEnd(9)} ${n}`);
const counted = result.totals.reduce((sum, [, n]) => sum + n, 0);
console.log(`\n${counted} of ${result.generated.length} events counted in ${result.batches} batches; ${result.badRecords} malformed line(s) went to the dead letters.`);
if (counted !== result.generated.length) process.exitCode = 1;
