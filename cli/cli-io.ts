/** Where a command writes, and what it knows of its terminal and environment (injected, for tests). */
export interface CliIo {
  /** Writes a line (or block) of the command's output. */
  readonly out: (line: string) => void;
  /** Writes a line of an error or a diagnostic. */
  readonly err: (line: string) => void;
  /** Whether stdout is a terminal (`sluice run` then redraws one status line). */
  readonly isTTY?: boolean;
  /** The environment (`SLUICE_MONITOR_TOKEN`); default none. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The directory relative paths are resolved from (default `process.cwd()`). */
  readonly cwd?: string;
}

/** Exit statuses of the `sluice` command. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * An argument the user must change: the command prints the message and exits with status 2
 * (commander's own argument errors exit 2 too).
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
