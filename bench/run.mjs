// The benchmark suite: `npm run bench` (full sizes) or `npm run bench -- --quick` (1/20 of the
// sizes, a smoke check). Prints a table and writes bench/results/latest.json. Never part of
// `npm test`; a missed target is reported, never a failure.
import { mkdirSync, writeFileSync } from 'node:fs';
import { URL } from 'node:url';
import { checkpointScenario } from './checkpoint-cost.mjs';
import { connectorsScenario } from './connectors.mjs';
import { dedupScenario } from './dedup.mjs';
import { joinsScenario } from './joins.mjs';
import { keyedScenario } from './keyed.mjs';
import { checkpointedLatencyScenario, latencyScenario } from './latency.mjs';
import { memoryScenario } from './memory.mjs';
import { overloadScenario } from './overload.mjs';
import { parallelScenario } from './parallel.mjs';
import { recoveryScenario } from './recovery.mjs';
import { scaleOutScenario } from './scale-out.mjs';
import { sqlScenario } from './sql.mjs';
import { slidingScenario, tumblingScenario } from './windows.mjs';

/** @typedef {import('./lib.mjs').BenchRow & { bytesPerEntry?: number }} Row */

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const scale = quick ? 1 / 20 : 1;
// How many interleaved runs the scenarios that take medians make (the event-time windows).
const rounds = quick ? 1 : 3;

/** @type {[string, (o: { scale: number, rounds: number }) => Promise<Row[]>][]} */
const scenarios = [
  ['keyed', keyedScenario],
  ['tumbling', tumblingScenario],
  ['sliding', slidingScenario],
  ['checkpoint', checkpointScenario],
  ['recovery', recoveryScenario],
  ['latency', latencyScenario],
  ['latency-checkpoint', checkpointedLatencyScenario],
  ['memory', memoryScenario],
  ['connectors', connectorsScenario],
  ['dedup', dedupScenario],
  ['overload', overloadScenario],
  ['joins', joinsScenario],
  ['sql', sqlScenario],
  ['parallel', parallelScenario],
  // Needs a NATS server with JetStream (SLUICE_NATS_URL, default 127.0.0.1:4222): only on request.
  ['scale-out', scaleOutScenario],
];

/** @param {Row} r */
function judge(r) {
  if (r.met !== undefined || r.target === undefined || r.ratio === undefined) return r;
  const m = /^>=\s*([\d.]+)/.exec(r.target);
  return m === null ? r : { ...r, met: r.ratio >= Number(m[1]) };
}

/** @type {Row[]} */
const rows = [];
for (const [name, run] of scenarios) {
  if (only !== undefined ? !only.includes(name) : name === 'scale-out') continue;
  process.stderr.write(`running ${name}...\n`);
  for (const r of await run({ scale, rounds })) rows.push(judge(r));
}

const fmt = (/** @type {number} */ n) => n.toLocaleString('en-US', { maximumFractionDigits: 2 });
const table = rows.map((r) => ({
  scenario: r.scenario,
  variant: r.variant,
  'events/s': fmt(r.eventsPerSecond),
  ms: fmt(r.ms),
  'ratio (sluice/baseline)': r.ratio === undefined ? (r.bytesPerEntry === undefined ? '' : `${r.bytesPerEntry} B/entry`) : `${fmt(r.ratio)}x`,
  target: r.target ?? '',
  met: r.met === undefined ? '' : r.met ? 'yes' : 'NO',
}));
console.table(table);
for (const r of rows) if (r.note !== undefined) console.log(`${r.scenario} / ${r.variant}: ${r.note}`);

const result = { node: process.version, date: new Date().toISOString(), mode: quick ? 'quick' : 'full', platform: `${process.platform} ${process.arch}`, gc: typeof (/** @type {{ gc?: unknown }} */ (globalThis).gc) === 'function', rows };
const dir = new URL('./results/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('latest.json', dir), `${JSON.stringify(result, null, 2)}\n`);
console.log(`node ${process.version}, ${result.date}, ${result.mode} run; wrote bench/results/latest.json`);
