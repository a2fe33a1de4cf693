import { formatInspection, inspectCheckpoint, inspectionJson, stateToJson, type CheckpointInspection } from 'sluice/checkpoint';
import { isLocked } from '../checkpoint/internal.js';
import { EXIT, type CliIo } from './cli-io.js';
import { fetchFromMonitor, MonitorUnavailable } from './monitor-client.js';

/** Options of `sluice inspect`. */
export interface InspectCommandOptions {
  readonly json?: boolean;
  readonly verify?: boolean;
  readonly token?: string;
}

/**
 * `sluice inspect <checkpoint> [--json] [--verify]`: where a checkpoint stands. A stopped job's is
 * read from its directory; a running job's (LevelDB's lock is held) from the job's monitor, found
 * through the discovery file it writes there.
 *
 * @returns the exit status.
 */
export async function inspectCommand(directory: string, options: InspectCommandOptions, io: CliIo): Promise<number> {
  let info: CheckpointInspection;
  try {
    info = await inspectCheckpoint(directory, { verify: options.verify === true });
  } catch (error) {
    if (!isLocked(error)) throw error;
    if (options.verify === true) {
      io.err(`sluice inspect: the checkpoint at ${directory} is in use by a running job: --verify reads every file, which only a stopped job's checkpoint allows. Verify a copy of the directory, or stop the job.`);
      return EXIT.failed;
    }
    const answer = await fetchFromMonitor(directory, '/api/checkpoint', { token: options.token ?? io.env?.SLUICE_MONITOR_TOKEN });
    // The monitor serves what inspectionJson writes: printed as it came.
    io.out(options.json === true ? JSON.stringify(answer, null, 2) : formatInspection(fromJson(answer)));
    return EXIT.ok;
  }
  io.out(options.json === true ? inspectionJson(info) : formatInspection(info));
  return EXIT.ok;
}

/** An inspection as JSON gives it (`null` for what the checkpoint does not have yet), back in its type. */
function fromJson(answer: unknown): CheckpointInspection {
  if (typeof answer !== 'object' || answer === null || !('fingerprint' in answer)) throw new MonitorUnavailable(`The monitor answered /api/checkpoint with what is not an inspection: ${stateToJson(answer).slice(0, 200)}`);
  const absent = new Set(['lastCommitted', 'lastPersisted', 'watermark', 'watermarkPolicy', 'verified']);
  return Object.fromEntries(Object.entries(answer).filter(([field, value]) => !(value === null && absent.has(field)))) as unknown as CheckpointInspection;
}
