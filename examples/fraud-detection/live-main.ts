/*
 * `npm run example:fraud-live`: the fraud-detection job on real servers. It needs NATS with
 * JetStream on 127.0.0.1:4222 and PostgreSQL on 127.0.0.1:5432 (database `test`, user
 * `postgres`; set SLUICE_NATS_URL / SLUICE_POSTGRES_URL for others). It creates the JetStream
 * stream SLUICE_FRAUD (emptied if it exists) and the table fraud_alerts, publishes generated card
 * transactions on SLUICE_FRAUD.tx, runs the job over them, and checks the alerts against the
 * reference implementation.
 */
import { runFraudLive } from './live.js';
import { alertKey, referenceAlerts } from './reference.js';

const result = await runFraudLive({
  ...(process.env.SLUICE_NATS_URL === undefined ? {} : { servers: process.env.SLUICE_NATS_URL }),
  ...(process.env.SLUICE_POSTGRES_URL === undefined ? {} : { connectionString: process.env.SLUICE_POSTGRES_URL }),
  log: (line) => {
    console.log(line);
  },
});
const published = new Set(result.alerts.map(alertKey));
const expected = new Set(referenceAlerts(result.transactions).map(alertKey));
const matches = published.size === expected.size && [...published].every((k) => expected.has(k));
console.log(`\n${result.alerts.length} alerts on SLUICE_FRAUD.alerts (${result.alerts.length - published.size} duplicates); ${result.latestPerCard.length} cards in table fraud_alerts.`);
for (const row of result.latestPerCard.slice(0, 5)) console.log(`  ${row.card}: [${row.rule}] ${row.reason}`);
console.log(`\nThe alerts ${matches ? 'match' : 'DO NOT match'} the reference implementation (${expected.size} expected).`);
if (!matches || published.size !== result.alerts.length) process.exitCode = 1;
