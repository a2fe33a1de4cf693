import { pino, type Logger } from 'pino';

/** The logger used when none is given: silent. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
