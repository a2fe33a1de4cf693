// The scaling run of docs/scale-out.md: throughput of a CPU-bound grouped job
// (bench/scale-out-job.mjs) with 1, 2 and 3 instances as child processes on this machine,
// against the NATS server on SLUICE_NATS_URL (default 127.0.0.1:4222; streams with random names,
// deleted afterwards). The input (RECORDS records over 200 keys, PARTITIONS partitions) is
// published once; each run is a new group reading it from the start, timed from the children's
// start to the last record counted (joining, restoring nothing, and the first assignment count).
//
//   node bench/scale-out.mjs [--records=60000] [--partitions=6] [--work=40] [--instances=1,2,3]
//
// Also `npm run bench -- --only=scale-out` (a smaller input with --quick).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, URL } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { partitionOf } from 'sluice/nats';
import { row } from './lib.mjs';

const MEMBER = fileURLToPath(new URL('./scale-out-member.mjs', import.meta.url));

/**
 * Runs the scaling scenario.
 * @param {{ records?: number, partitions?: number, work?: number, instances?: number[] }} [options]
 * @returns {Promise<{ instances: number, seconds: number, perSecond: number }[]>}
 */
export async function scaleOut(options = {}) {
  const { records = 60_000, partitions = 6, work = 40, instances = [1, 2, 3] } = options;
  const servers = process.env.SLUICE_NATS_URL ?? '127.0.0.1:4222';
  const nc = await connect({ servers });
  const jsm = await jetstreamManager(nc);
  const input = `bso_${randomBytes(4).toString('hex')}`;
  const made = [input];
  const dir = await mkdtemp(join(tmpdir(), 'sluice-scale-out-'));
  try {
    await jsm.streams.add({ name: input, subjects: [`${input}.>`] });
    const js = jetstream(nc);
    let pending = [];
    for (let i = 0; i < records; i++) {
      const key = `k${i % 200}`;
      pending.push(js.publish(`${input}.${partitionOf(key, partitions)}`, JSON.stringify({ key, i })));
      if (pending.length >= 1_000) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    const results = [];
    for (const n of instances) {
      const group = `bsog_${randomBytes(4).toString('hex')}`;
      made.push(`${group}_changelog`, `KV_${group}`);
      const env = { ...process.env, SLUICE_B_SERVERS: servers, SLUICE_B_IN: input, SLUICE_B_PARTITIONS: String(partitions), SLUICE_B_WORK: String(work) };
      const started = performance.now();
      let counted = 0;
      const children = [];
      const done = new Promise((resolve, reject) => {
        for (let m = 0; m < n; m++) {
          const child = spawn(process.execPath, [MEMBER, servers, group, `m${m}`, String(partitions), join(dir, group)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
          children.push(child);
          let partial = '';
          child.stdout.setEncoding('utf8').on('data', (chunk) => {
            const lines = (partial + chunk).split('\n');
            partial = lines.pop() ?? '';
            for (const line of lines) {
              const n = JSON.parse(line).n;
              if (typeof n === 'number') counted += n;
            }
            if (counted >= records) resolve(undefined);
          });
          child.on('exit', (code, signal) => {
            if (counted < records) reject(new Error(`instance m${m} ended (${code ?? signal}) after ${counted} of ${records} records`));
          });
        }
      });
      try {
        await done;
      } finally {
        for (const child of children) child.kill('SIGKILL');
      }
      const seconds = (performance.now() - started) / 1_000;
      results.push({ instances: n, seconds, perSecond: records / seconds });
      process.stderr.write(`scale-out: ${n} instance(s): ${records} records in ${seconds.toFixed(2)} s, ${Math.round(records / seconds)} records/s\n`);
    }
    return results;
  } finally {
    for (const stream of made) await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** For bench/run.mjs: rows of records/s per instance count. */
export async function scaleOutScenario({ scale }) {
  const rows = await scaleOut({ records: Math.max(3_000, Math.round(60_000 * scale)) });

  const records = Math.max(3_000, Math.round(60_000 * scale));
  const one = rows[0]?.perSecond ?? 1;
  return rows.map((r) => row('scale-out', `${r.instances} instance(s)`, records, r.seconds * 1_000, { baseline: '1 instance', ratio: r.perSecond / one, note: 'child processes on one machine, NATS on it too; timed from their start' }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const found = process.argv.find((a) => a.startsWith(`--${name}=`));
    return found === undefined ? fallback : found.slice(name.length + 3);
  };
  const rows = await scaleOut({ records: Number(arg('records', 60_000)), partitions: Number(arg('partitions', 6)), work: Number(arg('work', 40)), instances: arg('instances', '1,2,3').split(',').map(Number) });
  const one = rows[0]?.perSecond ?? 1;
  for (const r of rows) console.log(`${r.instances} instance(s): ${Math.round(r.perSecond).toLocaleString('en-US')} records/s (${r.seconds.toFixed(2)} s), ${(r.perSecond / one).toFixed(2)}x`);
}
