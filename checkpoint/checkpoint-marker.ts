import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';

/*
 * The marker of a checkpoint directory: a small JSON file beside the LevelDB files, written once
 * the checkpoint holds its first durable commit, so that a directory whose database went missing
 * or empty is known for a damaged checkpoint rather than taken for a new one.
 */

/** The marker's file name in a checkpoint directory. */
export const MARKER_FILE = 'sluice-checkpoint.json';

/** The version of the marker's format this code writes and reads. */
export const MARKER_VERSION = 1;

/** What the marker holds. */
export interface CheckpointMarker {
  /** The version of the marker's format. */
  readonly sluiceCheckpoint: number;
  /** The checkpoint's id, also in its database (meta entry `id`): the marker and the database belong together. */
  readonly id: string;
}

/** The marker in `bytes`, or why it is not one. */
export function parseMarker(bytes: Uint8Array): CheckpointMarker | { readonly reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return { reason: bytes.length === 0 ? 'it is empty' : 'it is not JSON' };
  }
  const { sluiceCheckpoint, id } = (parsed ?? {}) as Partial<Record<keyof CheckpointMarker, unknown>>;
  if (!Number.isSafeInteger(sluiceCheckpoint) || typeof id !== 'string' || id === '') return { reason: `it is not a checkpoint marker (${JSON.stringify(parsed).slice(0, 80)})` };
  return { sluiceCheckpoint: sluiceCheckpoint as number, id };
}

/**
 * Writes the marker of checkpoint `id` into `directory` atomically: a temporary file, synced,
 * renamed over the marker's name.
 */
export async function writeMarker(directory: string, id: string): Promise<void> {
  const temporary = join(directory, `${MARKER_FILE}.tmp`);
  const file = await open(temporary, 'w');
  try {
    await file.writeFile(`${JSON.stringify({ sluiceCheckpoint: MARKER_VERSION, id } satisfies CheckpointMarker)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, join(directory, MARKER_FILE));
}
