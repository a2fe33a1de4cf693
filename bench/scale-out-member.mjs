// One instance of bench/scale-out-job.mjs in a group, for bench/scale-out.mjs.
// Usage: node scale-out-member.mjs <servers> <group> <member> <partitions> <checkpoint dir>
import { URL } from 'node:url';
import { runJob } from 'sluice';

const [servers, group, member, partitions, dir] = process.argv.slice(2);
const run = await runJob(new URL('./scale-out-job.mjs', import.meta.url), {
  group: { name: group, servers: servers.split(","), partitions: Number(partitions), memberId: member, leaseMillis: 3_000, checkpointDir: dir, onEvent: (e) => { if (e.type === "failed") process.stderr.write(`${e.partition}: ${e.error.message}\n`); } },
});
await run.awaitTermination();
