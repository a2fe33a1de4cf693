import { runIotRollups } from './job.js';

/** `npm run example:iot`: per-device daily rollups in each device's local time zone. */
const result = await runIotRollups({
  log: (line) => {
    console.log(line);
  },
});
const counted = result.rollups.reduce((n, r) => n + r.readings, 0);
console.log(`\n${result.rollups.length} device-days rolled up from ${counted} of ${result.readings.length} readings in ${result.batches} batches.`);
if (counted !== result.readings.length) process.exitCode = 1;
