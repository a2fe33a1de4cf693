import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, expect, it } from 'vitest';
import { NATS_SERVER_BINARY, useJetStreamCluster } from '../../../support/jetstream-cluster.js';
import { describeWith } from '../../../support/services.js';

const cluster = useJetStreamCluster();
const open: NatsConnection[] = [];
afterAll(async () => {
  await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
});

/** A client of the cluster that reconnects to another server when its own goes away. */
async function client(servers: string[]): Promise<NatsConnection> {
  const nc = await connect({ servers, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  open.push(nc);
  return nc;
}

/** `attempt` until it succeeds (a stream whose leader just died answers after its new election), at most 10 s. */
async function eventually<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

await describeWith(NATS_SERVER_BINARY, 'a three-server JetStream cluster', () => {
  it('keeps an R3 stream writable and readable with one server killed, and the server catches up when it restarts', async () => {
    const c = await cluster();
    // Clients of the two servers that stay up; the third is killed below.
    const nc = await client([c.server(0), c.server(1)]);
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'R3', subjects: ['r3.>'], num_replicas: 3 });
    for (let i = 0; i < 10; i++) await js.publish('r3.a', `before ${i}`);

    await c.killServer(2);
    expect(c.running(2)).toBe(false);
    for (let i = 0; i < 10; i++) await eventually(() => js.publish('r3.a', `during ${i}`));
    const during = await eventually(() => jsm.streams.info('R3'));
    expect(during.state.messages).toBe(20);
    expect(new TextDecoder().decode((await eventually(() => jsm.streams.getMessage('R3', { seq: 15 })))?.data)).toBe('during 4');

    await c.restartServer(2);
    // The restarted server alone: its replica serves every message once it caught up.
    const solo = await client([c.server(2)]);
    const soloJsm = await jetstreamManager(solo);
    await eventually(async () => {
      const info = await soloJsm.streams.info('R3');
      const replicas = [info.cluster?.leader, ...(info.cluster?.replicas ?? []).map((r) => (r.current ? r.name : undefined))].filter((n) => n !== undefined);
      if (info.state.messages !== 20 || replicas.length !== 3) throw new Error(`not caught up yet: ${JSON.stringify(info.cluster)}`);
    });
    // Stepping the stream's leadership to the restarted server proves its copy is whole.
    await eventually(async () => {
      const info = await soloJsm.streams.info('R3');
      if (info.cluster?.leader === 'n3') return;
      await solo.request('$JS.API.STREAM.LEADER.STEPDOWN.R3', undefined, { timeout: 2_000 });
      throw new Error('leader not n3 yet');
    });
    const last = await soloJsm.streams.getMessage('R3', { seq: 20 });
    expect(new TextDecoder().decode(last?.data)).toBe('during 9');
    await jsm.streams.delete('R3');
  }, 60_000);
});
