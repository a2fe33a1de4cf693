import { runIotAnomaly } from './job.js';

/** `npm run example:iot-anomaly`: anomaly scores of machine sensors from a streaming k-means. */
const result = await runIotAnomaly({
  log: (line) => {
    console.log(line);
  },
});
const flagged = result.scores.filter((s) => s.flagged);
const caught = flagged.filter((s) => result.injected.has(s.index)).length;
console.log(`\n${result.scores.length} readings scored in ${result.batches} batches: ${flagged.length} flagged, ${caught} of the ${result.injected.size} injected anomalies among them.`);
if (result.scores.length !== result.readings.length) process.exitCode = 1;
