import type { JobDefinition } from 'sluice';
import { checkCompatibility, type CompatibilityReport, type LevelCheckpointOptions } from 'sluice/checkpoint';
import { EXIT, type CliIo } from './cli-io.js';
import { createJobContext, loadJob } from './load-job.js';

/**
 * `sluice check <checkpoint> <job module>`: the pre-deploy check. Would the job the module exports
 * restart from the checkpoint (`checkCompatibility`), keeping, adding, dropping or migrating
 * which operators' state? Nothing is started and nothing is written.
 *
 * @returns 0 when compatible, 1 when not (printing why).
 */
export async function checkCommand(directory: string, module: string, io: CliIo): Promise<number> {
  const cwd = io.cwd ?? process.cwd();
  const job = await loadJob(module, cwd);
  const report = await checkCompatibility(directory, (checkpoint) => createJobContext(module, cwd, { checkpoint }), checkpointOptionsOf(job));
  io.out(formatReport(directory, module, report));
  return report.compatible ? EXIT.ok : EXIT.failed;
}

/** The job's own checkpoint options (`dropState` above all), which apply to the checkpoint checked. */
function checkpointOptionsOf(job: JobDefinition): LevelCheckpointOptions {
  const storage = job.options.checkpoint as Partial<Record<'interval' | 'stateCacheSize' | 'dropState', unknown>> | undefined;
  const options: Record<string, unknown> = {};
  for (const field of ['interval', 'stateCacheSize', 'dropState'] as const) if (storage?.[field] !== undefined) options[field] = storage[field];
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
