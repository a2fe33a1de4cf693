import type { JobDefinition, StreamingContext } from 'sluice';
import { checkCompatibility, levelCheckpoint, type CompatibilityReport, type LevelCheckpointOptions, type LevelCheckpointStorage } from 'sluice/checkpoint';
import type { GraphFingerprint } from 'sluice/extend';
import { compatibility, isLocked } from '../checkpoint/internal.js';
import { fingerprintOf } from '../core/internal.js';
import { EXIT, type CliIo } from './cli-io.js';
import { createJobContext, loadJob } from './load-job.js';
import { fetchFromMonitor, MonitorUnavailable } from './monitor-client.js';

/**
 * `sluice check <checkpoint> <job module>`: the pre-deploy check. Would the job the module exports
 * restart from the checkpoint (`checkCompatibility`), keeping, adding, dropping or migrating
 * which operators' state? Nothing is started and nothing is written. A running job's checkpoint
 * is compared through the job's monitor (the fingerprint in `/api/checkpoint`).
 *
 * @returns 0 when compatible, 1 when not (printing why).
 */
export async function checkCommand(directory: string, module: string, options: { readonly token?: string }, io: CliIo): Promise<number> {
  const cwd = io.cwd ?? process.cwd();
  const checkpointOptions = checkpointOptionsOf(await loadJob(module, cwd));
  const build = (checkpoint: LevelCheckpointStorage): Promise<StreamingContext> => createJobContext(module, cwd, { checkpoint });
  let report: CompatibilityReport;
  try {
    report = await checkCompatibility(directory, build, checkpointOptions);
  } catch (error) {
    if (!isLocked(error)) throw error;
    // A running job's checkpoint: the fingerprint it was written with, from the job's monitor.
    const answer = (await fetchFromMonitor(directory, '/api/checkpoint', { token: options.token ?? io.env?.SLUICE_MONITOR_TOKEN })) as { fingerprint?: GraphFingerprint };
    if (answer.fingerprint === undefined) throw new MonitorUnavailable('The monitor answered /api/checkpoint without the checkpoint\'s fingerprint.');
    const ctx = await build(levelCheckpoint(directory, checkpointOptions));
    const c = compatibility(answer.fingerprint, fingerprintOf(ctx.graph), checkpointOptions.dropState ?? []);
    report = { compatible: c.refused === undefined, ...c };
  }
  io.out(formatReport(directory, module, report));
  return report.compatible ? EXIT.ok : EXIT.failed;
}

/** The job's own checkpoint options (`dropState` above all), which apply to the checkpoint checked. */
function checkpointOptionsOf(job: JobDefinition): LevelCheckpointOptions {
  const storage = job.options.checkpoint as Partial<Record<'interval' | 'stateCacheSize' | 'stateCacheBytes' | 'dropState', unknown>> | undefined;
  const options: Record<string, unknown> = {};
  for (const field of ['interval', 'stateCacheSize', 'stateCacheBytes', 'dropState'] as const) if (storage?.[field] !== undefined) options[field] = storage[field];
  return options;
}

/** The report in words. */
export function formatReport(directory: string, module: string, report: CompatibilityReport): string {
  if (!report.compatible) return `not compatible: ${module} cannot restart from the checkpoint at ${directory}: ${report.refused ?? 'refused'}.`;
  const list = (ids: readonly string[]): string => (ids.length === 0 ? 'none' : ids.join(', '));
  return [
    `compatible: ${module} can restart from the checkpoint at ${directory}.`,
    `  keeps the state of:     ${list(report.kept)}`,
    `  starts empty:           ${list(report.added)}`,
    `  drops the state of:     ${list(report.dropped)}`,
    `  migrates the state of:  ${list(report.migrated.map((m) => `${m.id} (version ${m.from} to ${m.to})`))}`,
  ].join('\n');
}
