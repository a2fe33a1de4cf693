import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { messageOf } from '../core/internal.js';

/** The file a job's monitor writes into its checkpoint directory while the job runs. */
export const DISCOVERY_FILE = 'sluice-monitor.json';

/** What {@link DISCOVERY_FILE} holds. */
interface Discovery {
  readonly url: string;
  readonly pid: number;
  readonly token: boolean;
}

/** How to reach a running job's monitor. */
export interface MonitorAccess {
  /** The bearer token (`--token`, or the environment's `SLUICE_MONITOR_TOKEN`). */
  readonly token?: string | undefined;
  /** How long to wait for an answer (default 5 s). */
  readonly timeoutMs?: number;
}

/** A running job whose monitor cannot answer: the message says why and what to do. */
export class MonitorUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MonitorUnavailable';
  }
}

const HOW_TO_SERVE = 'Serve its monitor (run it with sluice run --monitor PORT, or call serveMonitor(ctx, { port }) in its program) and run this again, or stop the job first.';

/**
 * GETs `path` (`/api/checkpoint`, `/api/state/...`) from the monitor of the job running on the
 * checkpoint in `directory`, found through the discovery file the monitor writes there.
 *
 * @returns the answer's JSON.
 * @throws MonitorUnavailable when there is no discovery file, the monitor does not answer, wants a
 * token it was not given, or answers with an error (its message then).
 */
export async function fetchFromMonitor(directory: string, path: string, access: MonitorAccess = {}): Promise<unknown> {
  const running = `The checkpoint at ${directory} is in use by a running job (LevelDB's lock is held)`;
  let discovery: Discovery;
  try {
    discovery = JSON.parse(await readFile(join(directory, DISCOVERY_FILE), 'utf8')) as Discovery;
  } catch (error) {
    const missing = (error as { code?: unknown }).code === 'ENOENT';
    throw new MonitorUnavailable(`${running}, ${missing ? 'which serves no monitor' : `whose ${DISCOVERY_FILE} cannot be read (${messageOf(error)})`}. ${HOW_TO_SERVE}`);
  }
  if (typeof discovery?.url !== 'string') throw new MonitorUnavailable(`${running}, whose ${DISCOVERY_FILE} names no monitor URL. ${HOW_TO_SERVE}`);
  if (discovery.token && access.token === undefined) {
    throw new MonitorUnavailable(`${running}; its monitor at ${discovery.url} requires a token: pass --token TOKEN, or set SLUICE_MONITOR_TOKEN.`);
  }
  let response: Response;
  try {
    response = await fetch(new URL(path, discovery.url), {
      headers: access.token === undefined ? {} : { authorization: `Bearer ${access.token}` },
      signal: AbortSignal.timeout(access.timeoutMs ?? 5000),
    });
  } catch (error) {
    throw new MonitorUnavailable(`${running}, but its monitor at ${discovery.url} (process ${discovery.pid}) does not answer: ${messageOf((error as { cause?: unknown }).cause ?? error)}. If the job died, the lock is released and this works on the checkpoint itself; otherwise ${HOW_TO_SERVE.charAt(0).toLowerCase()}${HOW_TO_SERVE.slice(1)}`);
  }
  const body = await response.text();
  if (response.status === 401 || response.status === 403) throw new MonitorUnavailable(`The monitor at ${discovery.url} refused the token (${response.status}): pass the job's token with --token TOKEN or SLUICE_MONITOR_TOKEN.`);
  if (!response.ok) throw new MonitorUnavailable(`The monitor at ${discovery.url} answered ${response.status}: ${errorText(body)}`);
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new MonitorUnavailable(`The monitor at ${discovery.url} answered ${path} with what is not JSON: ${body.slice(0, 200)}`);
  }
}

/** The message of an error answer: its JSON `error` or `message`, else its text. */
function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    const message = parsed.error ?? parsed.message;
    if (typeof message === 'string') return message;
  } catch {
    // plain text
  }
  return body.trim().slice(0, 500);
}
