import { resolve } from 'node:path';
import { runJob, type JobGroupEvent, type JobGroupRun } from 'sluice';
import { handleStopSignals, messageOf } from '../core/internal.js';
import { EXIT, type CliIo } from './cli-io.js';
import { loadJob } from './load-job.js';

/** The options of `sluice run --group`. */
export interface RunGroupOptions {
  readonly group: string;
  readonly partitions?: number;
  readonly member?: string;
  readonly servers?: string;
  readonly changelog?: string;
  readonly leaseMs?: number;
  readonly checkpointDir?: string;
  /** Standby replicas per partition (`--standby N`). */
  readonly standby?: number;
}

/** One line for an event of the instance's partitions. */
export function groupEventLine(event: JobGroupEvent): string {
  switch (event.type) {
    case 'started':
      return `sluice run: partition ${event.partition} started, ${event.from === 'fresh' ? 'fresh' : `restored from its ${event.from === 'local' ? 'local checkpoint' : event.from === 'standby' ? 'standby copy' : 'changelog'} at batch ${event.batchId}`} (${event.millis} ms, ${event.read} changelog messages read)`;
    case 'standby':
      return `sluice run: standing by for partition ${event.partition}: warm copy at batch ${event.batchId} (${event.millis} ms)`;
    case 'stopped':
      return `sluice run: partition ${event.partition} stopped (${event.reason === 'revoked' ? 'handed over' : event.reason === 'lost' ? 'lost: another instance owns it' : 'the instance is stopping'})`;
    case 'failed':
      return `sluice run: partition ${event.partition} failed: ${event.error.code}: ${event.error.message}`;
    default:
      return event satisfies never;
  }
}

/**
 * `sluice run <job module> --group NAME --partitions N [...]`: runs this process as one instance
 * of the group (runJob's `group`), printing a line per partition started, stopped or failed, until
 * SIGINT or SIGTERM (graceful: every partition's batch commits and its lease is released; a second
 * signal stops at once, the leases then expire).
 *
 * @returns the exit status: 0 when the instance stopped cleanly, 1 when it could not join.
 */
export async function runGroup(module: string, options: RunGroupOptions, io: CliIo): Promise<number> {
  const cwd = io.cwd ?? process.cwd();
  if (options.partitions === undefined) {
    io.err('sluice run: --group needs --partitions <n>, the number of partitions of the job\'s input (fixed when the group is first created).');
    return EXIT.failed;
  }
  // A UsageError for a module that is not a job, before anything joins.
  await loadJob(module, cwd);
  let run: JobGroupRun;
  try {
    run = await runJob(resolve(cwd, module), {
      group: {
        name: options.group,
        partitions: options.partitions,
        ...(options.member === undefined ? {} : { memberId: options.member }),
        ...(options.servers === undefined ? {} : { servers: options.servers.split(',') }),
        ...(options.changelog === undefined ? {} : { changelog: options.changelog }),
        ...(options.leaseMs === undefined ? {} : { leaseMillis: options.leaseMs }),
        ...(options.checkpointDir === undefined ? {} : { checkpointDir: resolve(cwd, options.checkpointDir) }),
        ...(options.standby === undefined ? {} : { standbyReplicas: options.standby }),
        onEvent: (event) => {
          io.out(groupEventLine(event));
        },
      },
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    io.err(`sluice run: ${typeof code === 'string' ? `${code}: ` : ''}${messageOf(error)}`);
    return EXIT.failed;
  }
  io.out(`sluice run: member ${run.member} joined group ${run.group}`);
  const removeSignals = handleStopSignals(
    (signal) => {
      io.out(`sluice run: ${signal} received: handing the partitions over after their batches commit (send it again to stop at once)`);
      void run.stop({ graceful: true });
    },
    (signal) => {
      io.out(`sluice run: second ${signal}: stopping at once (the partitions move once their leases expire)`);
      void run.stop({ graceful: false });
    },
  );
  try {
    await run.awaitTermination();
    io.out(`sluice run: member ${run.member} left group ${run.group}`);
    return EXIT.ok;
  } finally {
    removeSignals();
  }
}
