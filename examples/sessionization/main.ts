import { runSessionization } from './job.js';

/** `npm run example:sessionization`: sessions of a generated clickstream, with progress lines. */
const result = await runSessionization({
  log: (line) => {
    console.log(line);
  },
});

console.log('\nFirst sessions:');
for (const s of result.sessions.slice(0, 5)) {
  console.log(`  ${s.user} ${s.start} .. ${s.end}: ${s.pages} pages in ${s.durationSec} s, ${s.entryPage} -> ${s.exitPage}`);
}
const pages = result.sessions.reduce((n, s) => n + s.pages, 0);
console.log(`\n${result.input.clicks.length} clicks: ${result.sessions.length} sessions holding ${pages} clicks, ${result.late.length} late click(s) routed to the late output, ${result.badRecords} malformed line(s) in the dead letters; ${result.batches} batches.`);
if (pages + result.late.length !== result.input.clicks.length) process.exitCode = 1;
