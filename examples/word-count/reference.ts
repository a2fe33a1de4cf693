import { words } from './job.js';

/** The expected word counts, directly (no Sluice): every word of every line, counted. */
export function expectedWordCounts(lines: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines) for (const word of words(line)) counts.set(word, (counts.get(word) ?? 0) + 1);
  return counts;
}
