import { runFraudDetection } from './job.js';
import { alertKey, referenceAlerts } from './reference.js';

/** `npm start`: fraud detection on generated card transactions, with its progress and a summary. */
const result = await runFraudDetection({
  log: (line) => {
    console.log(line);
  },
});

const { alerts, transactions, settlements } = result;
const delivered = new Set(transactions.map((t) => t.id)).size;
console.log(`\n${transactions.length} deliveries of ${delivered} transactions (${result.duplicatesDropped} duplicate deliveries dropped), ${settlements.length} settlements, ${alerts.length} alerts:`);
for (const rule of ['velocity', 'amount', 'travel', 'unsettled', 'mismatch'] as const) {
  const mine = alerts.filter((a) => a.rule === rule);
  console.log(`  ${rule.padEnd(9)} ${String(mine.length).padStart(4)} alerts on ${new Set(mine.map((a) => a.card)).size} cards`);
}
console.log('\nSample alerts:');
for (const rule of ['velocity', 'amount', 'travel', 'unsettled', 'mismatch'] as const) {
  for (const a of alerts.filter((x) => x.rule === rule).slice(0, 2)) console.log(`  [${a.rule}] ${a.card} ${new Date(a.time).toISOString()} ${a.reason}`);
}
const keys = alerts.map(alertKey);
const unique = new Set(keys);
const expected = new Set(referenceAlerts(transactions, settlements).map(alertKey));
const matches = unique.size === expected.size && [...unique].every((k) => expected.has(k));
console.log(
  `\nexactly-once: ${result.batchFiles} batch files written by the file sink (one per batch with alerts), ${keys.length - unique.size} duplicate alerts; ` +
    `the alerts ${matches ? 'match' : 'DO NOT match'} the reference implementation (${expected.size} expected).`,
);
if (!matches || unique.size !== keys.length) process.exitCode = 1;
