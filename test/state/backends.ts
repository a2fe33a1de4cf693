import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelStateBackend } from 'sluice/state';
import type { StateBackend } from 'sluice/extend';

/** The state backends every state operator test runs over: memory, and LevelDB with a tiny cache. */
export const BACKENDS = ['memory', 'leveldb'] as const;
export type BackendName = (typeof BACKENDS)[number];

const dirs: string[] = [];

/** A `stateBackend` factory for `runBatches` that puts the context's state on `backend` (in a new directory each run). */
export function backendFactory(backend: BackendName): (() => Promise<StateBackend>) | undefined {
  if (backend === 'memory') return undefined;
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-state-'));
    dirs.push(dir);
    return LevelStateBackend.open(dir, { cacheSize: 2 });
  };
}

/** Removes the LevelDB directories made so far (call in afterAll). */
export async function removeBackendDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}
