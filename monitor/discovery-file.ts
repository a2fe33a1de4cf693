import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MONITOR_DISCOVERY_FILE } from 'sluice/checkpoint';

/** What the discovery file says: where the monitor answers, which process serves it, whether it needs the token. */
export interface MonitorDiscovery {
  readonly url: string;
  readonly pid: number;
  readonly token: boolean;
}

/**
 * Writes the discovery file into the checkpoint directory (creating the directory if the job has
 * not started yet), whole or not at all: a reader never sees half of it.
 */
export async function writeDiscoveryFile(directory: string, discovery: MonitorDiscovery): Promise<void> {
  await mkdir(directory, { recursive: true });
  const file = join(directory, MONITOR_DISCOVERY_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(discovery)}\n`);
  await rename(temporary, file);
}

/** Removes the discovery file (gone already is fine). */
export async function removeDiscoveryFile(directory: string): Promise<void> {
  await rm(join(directory, MONITOR_DISCOVERY_FILE), { force: true });
}
