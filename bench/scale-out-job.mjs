// The CPU-bound grouped job of bench/scale-out.mjs: each record of a partitioned JetStream
// stream costs a fixed amount of hashing (SLUICE_B_WORK rounds of SHA-256), then a running count
// per key (keyed state, so every batch commits to the changelog); each batch's record count is
// printed as a line { n } for the parent to add up. Configured by the environment: SLUICE_B_IN,
// SLUICE_B_PARTITIONS, SLUICE_B_WORK (default 40).
import { createHash } from 'node:crypto';
import { defineJob, foreachBatch, keyBy, map } from 'sluice';
import { groupSource } from 'sluice/nats';
import { mapWithState, stateSpec } from 'sluice/state';

const env = process.env;
const work = Number(env.SLUICE_B_WORK ?? 40);

function burn(text) {
  let h = text;
  for (let i = 0; i < work; i++) h = createHash('sha256').update(h).digest('hex');
  return h;
}

export default defineJob({ batchInterval: '200ms' }, (ctx) => {
  groupSource(ctx, { servers: (env.SLUICE_B_SERVERS ?? '127.0.0.1:4222').split(','), stream: env.SLUICE_B_IN, prefix: env.SLUICE_B_IN, partitions: Number(env.SLUICE_B_PARTITIONS), format: 'json', maxRecordsPerBatch: 2_000 }).pipe(
    map((r) => ({ key: r.value.key, h: burn(r.value.key + r.value.i) })),
    keyBy((v) => v.key),
    mapWithState(stateSpec((key, v, state) => {
      const n = (state.getOption() ?? 0) + 1;
      state.update(n);
      return n;
    }).name('count')),
    foreachBatch((records) => {
      if (records.length > 0) process.stdout.write(`${JSON.stringify({ n: records.length })}\n`);
    }),
  );
});
