import type { Click, Clickstream } from './generate.js';
import type { SessionRecord } from './job.js';

/**
 * The expected output, computed directly (no Sluice): the late clicks are the ones the generator
 * injected as late; the other clicks of each user, sorted by time, form a session as long as
 * consecutive clicks are at most `gapMs` apart.
 */
export function expectedSessions(input: Clickstream, gapMs: number): { sessions: SessionRecord[]; late: Click[] } {
  const byUser = new Map<string, Click[]>();
  const late: Click[] = [];
  input.clicks.forEach((click, i) => {
    if (input.late.has(i)) {
      late.push(click);
      return;
    }
    const list = byUser.get(click.user) ?? [];
    list.push(click);
    byUser.set(click.user, list);
  });
  const sessions: SessionRecord[] = [];
  for (const [user, clicks] of byUser) {
    const sorted = [...clicks].sort((a, b) => a.time - b.time || a.page.localeCompare(b.page));
    let current: Click[] = [];
    const close = (): void => {
      const first = current[0];
      const last = current[current.length - 1];
      if (first === undefined || last === undefined) return;
      sessions.push({
        user,
        start: new Date(first.time).toISOString(),
        end: new Date(last.time).toISOString(),
        pages: current.length,
        durationSec: (last.time - first.time) / 1000,
        entryPage: first.page,
        exitPage: last.page,
      });
    };
    for (const click of sorted) {
      const previous = current[current.length - 1];
      if (previous !== undefined && click.time - previous.time > gapMs) {
        close();
        current = [];
      }
      current.push(click);
    }
    close();
  }
  return { sessions, late };
}
