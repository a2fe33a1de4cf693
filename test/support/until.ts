import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Waits until `ready()` holds, checking once per turn of the event loop (each turn also runs
 * whatever I/O became ready: a socket's data, a LevelDB write, a connection), never for a fixed
 * time. Throws, naming `what`, if it still does not hold after `maxTurns` turns.
 */
export async function until(ready: () => boolean, what: string, maxTurns = 1_000_000): Promise<void> {
  for (let turn = 0; !ready(); turn++) {
    if (turn === maxTurns) throw new Error(`Still waiting for ${what} after ${maxTurns} turns of the event loop.`);
    await nextTurn();
  }
}
