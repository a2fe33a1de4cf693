import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One event of the demo's generated input. */
export interface DemoEvent {
  readonly type: 'view' | 'click' | 'cart' | 'purchase';
  readonly user: string;
  readonly amount: number;
}

const TYPES = ['view', 'view', 'view', 'click', 'click', 'cart', 'purchase'] as const;

/** A small deterministic generator (an LCG), so every run makes the same files. */
export function generateEvents(count: number, seed: number): DemoEvent[] {
  let state = seed >>> 0;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return Array.from({ length: count }, () => {
    const type = TYPES[Math.floor(next() * TYPES.length)] ?? 'view';
    return { type, user: `user-${Math.floor(next() * 50)}`, amount: type === 'purchase' ? Math.round(next() * 10_000) / 100 : 0 };
  });
}

/**
 * Writes `files` NDJSON files of `perFile` events into `dir`, each under a temporary name first
 * and then renamed (the way to hand a file to a directory source), plus one malformed line.
 */
export async function writeEventFiles(dir: string, files: number, perFile: number): Promise<DemoEvent[]> {
  await mkdir(dir, { recursive: true });
  const all: DemoEvent[] = [];
  for (let f = 0; f < files; f++) {
    const events = generateEvents(perFile, f + 1);
    all.push(...events);
    const lines = events.map((e) => JSON.stringify(e));
    if (f === 1) lines.splice(10, 0, '{"type": "click", "user": ');
    const name = `events-${String(f).padStart(3, '0')}.ndjson`;
    await writeFile(join(dir, `${name}.tmp`), `${lines.join('\n')}\n`);
    await rename(join(dir, `${name}.tmp`), join(dir, name));
  }
  return all;
}
