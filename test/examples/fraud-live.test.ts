import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { expect, it } from 'vitest';
import { runFraudLive } from '../../examples/fraud-detection/live.js';
import { alertKey, referenceAlerts } from '../../examples/fraud-detection/reference.js';
import { describeWith, NATS, NATS_URL, POSTGRES, POSTGRES_URL } from '../support/services.js';

await describeWith([NATS, POSTGRES], 'the fraud-detection example on real servers (npm run example:fraud-live)', () => {
  it('reads transactions from JetStream and writes every alert once to JetStream and the latest per card to PostgreSQL', async () => {
    const suffix = randomBytes(4).toString('hex');
    const stream = `sluice_fraud_${suffix}`;
    const table = `sluice_test_fraud_${suffix}`;
    try {
      const result = await runFraudLive({ servers: NATS_URL, connectionString: POSTGRES_URL, stream, table, cards: 30, hours: 24 });
      const expected = referenceAlerts(result.transactions).map(alertKey);
      expect(expected.length).toBeGreaterThan(10);
      expect(new Set(result.alerts.map(alertKey))).toEqual(new Set(expected));
      expect(result.alerts).toHaveLength(expected.length);
      const cards = [...new Set(result.alerts.map((a) => a.card))].sort();
      expect(result.latestPerCard.map((r) => r.card)).toEqual(cards);
      for (const row of result.latestPerCard) expect(result.alerts.some((a) => a.card === row.card && a.ref === row.ref && a.rule === row.rule)).toBe(true);
    } finally {
      const nc = await connect({ servers: NATS_URL });
      await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
      await nc.close();
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP TABLE IF EXISTS "${table}"`);
      await client.end();
    }
  }, 60_000);
});
