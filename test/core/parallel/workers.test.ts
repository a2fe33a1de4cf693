import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureUrl, runFixture } from './parallel-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-workers-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('runJob on worker threads', () => {
  it('fails with WORKER_GRAPH_MISMATCH, saying where, when a worker builds another graph from the module', async () => {
    const [run] = await runFixture(fixtureUrl('mismatch-job.mjs'), [2]);
    expect(run?.failure?.code).toBe('WORKER_GRAPH_MISMATCH');
    expect(run?.failure?.message).toMatch(/'sums' \(reduceByKey\) from \[1\] in the driver, 'sums-in-a-worker' \(reduceByKey\) from \[1\] in worker 0/);
    expect(run?.failure?.message).toMatch(/without side effects/);
    expect(run?.collected).toEqual([]);
  }, 60_000);

  it('runs a task again on a fresh worker when its worker exits mid-batch, with results identical to inline', async () => {
    const marker = join(dir, 'exited');
    const [inline, workers] = await runFixture(fixtureUrl('exiting-job.mjs', { marker }), ['inline:8', 2]);
    expect(readFileSync(marker, 'utf8')).toBe('exited');
    expect(workers?.failure).toBeUndefined();
    expect(workers?.collected).toEqual(inline?.collected);
    // Retried, unless the task that died was a straggler's speculative copy, or had one running
    // (seen under load): then the live copy finishes it and nothing runs again.
    expect(workers?.progress.reduce((n, p) => n + (p.tasks?.retried ?? 0) + (p.tasks?.speculated ?? 0), 0)).toBeGreaterThanOrEqual(1);
    // The state's key groups stayed with their workers: after the first batch most rows were not sent again.
    const update = (workers?.progress ?? []).slice(1).map((p) => p.tasks?.stages.find((s) => s.stage === 'totals/update'));
    expect(update.reduce((n, s) => n + (s?.stateRowsCached ?? 0), 0)).toBeGreaterThan(update.reduce((n, s) => n + (s?.stateRowsShipped ?? 0), 0));
    // Each batch's progress names its stages, the shuffles split into map and reduce sides.
    const stages = workers?.progress[0]?.tasks?.stages ?? [];
    expect(stages.map((s) => s.stage)).toEqual(['reduceByKey#3/combine', 'reduceByKey#3/combineReduce', 'totals/group', 'totals/groupReduce', 'totals/update']);
    // 4 input partitions; 8 partitions after the shuffles (inline:8, as runJob gives 2 workers).
    expect(stages.map((s) => s.tasks)).toEqual([4, 8, 8, 8, 8]);
    expect(stages.every((s) => s.millis >= 0 && s.retried >= 0 && s.speculated >= 0)).toBe(true);
  }, 60_000);

  it('loses nothing when a worker that holds key groups dies in the state stage: the task runs again elsewhere, its state sent whole', async () => {
    const stateMarker = join(dir, 'exited-in-state');
    const [inline, workers] = await runFixture(fixtureUrl('exiting-job.mjs', { stateMarker }), ['inline:8', 2]);
    expect(readFileSync(stateMarker, 'utf8')).toBe('exited');
    expect(workers?.failure).toBeUndefined();
    expect(workers?.collected).toEqual(inline?.collected);
    const update = (workers?.progress ?? []).map((p) => p.tasks?.stages.find((s) => s.stage === 'totals/update'));
    // The death came after the first batch, in a state task: retried on the other worker (sent
    // whole) or on the fresh one that took the dead one's index (which missed, then got it whole).
    const died = update.findIndex((s) => (s?.retried ?? 0) > 0);
    expect(died).toBeGreaterThan(0);
    expect(update[died]?.stateRowsShipped).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('runs keyed window tasks on the workers, and again on another worker when theirs exits mid-window-stage, with results identical to inline', async () => {
    const marker = join(dir, 'exited-in-window');
    const [inline, workers] = await runFixture(fixtureUrl('window-job.mjs', { marker }), ['inline:8', 2]);
    expect(readFileSync(marker, 'utf8')).toBe('exited');
    expect(workers?.failure).toBeUndefined();
    expect(workers?.collected).toEqual(inline?.collected);
    expect(inline?.collected.some((entry) => ((entry as [string, number, unknown[]])[2]).length > 0)).toBe(true);
    const stage = (name: string) => (workers?.progress ?? []).map((p) => p.tasks?.stages.find((s) => s.stage === name));
    // Every batch merges and slides its windows in 8 tasks (one per partition) on the workers.
    expect(stage('groups/windowMerge').map((s) => s?.tasks)).toEqual(Array(7).fill(8));
    expect(stage('sums/windowSlide').map((s) => s?.tasks)).toEqual(Array(7).fill(8));
    // The death came in the fourth batch's slide, the first whose inverse runs: retried (or a live speculative copy finished it).
    const slide = stage('sums/windowSlide');
    expect(slide.slice(0, 3).every((s) => s?.retried === 0)).toBe(true);
    expect(slide.reduce((n, s) => n + (s?.retried ?? 0) + (s?.speculated ?? 0), 0)).toBeGreaterThanOrEqual(1);
    // The incremental windows stayed with their workers: after the first slide most window entries were not sent again.
    const later = slide.slice(1);
    expect(later.reduce((n, s) => n + (s?.stateRowsCached ?? 0), 0)).toBeGreaterThan(later.reduce((n, s) => n + (s?.stateRowsShipped ?? 0), 0));
  }, 60_000);

  it("fails the batch with a window function's error thrown on a worker, naming the operator, as inline", async () => {
    const [inline, workers] = await runFixture(fixtureUrl('window-job.mjs', { fail: '1' }), ['inline:4', 1]);
    expect(inline?.failure?.code).toBe('USER_FUNCTION_FAILED');
    expect(inline?.failure?.message).toMatch(/sums/);
    const withoutTime = (failure: unknown): unknown => JSON.parse(JSON.stringify(failure).replace(/batch time \d+/, 'batch time T'));
    expect(withoutTime(workers?.failure)).toEqual(withoutTime(inline?.failure));
    expect(workers?.collected).toEqual(inline?.collected);
  }, 60_000);

  it("fails the batch with the user function's error, naming the operator, as inline", async () => {
    const [inline, workers] = await runFixture(fixtureUrl('exiting-job.mjs', { fail: '1' }), ['inline:4', 1]);
    expect(inline?.failure?.code).toBe('USER_FUNCTION_FAILED');
    // The same error; batch times come from the wall clock.
    const withoutTime = (failure: unknown): unknown => JSON.parse(JSON.stringify(failure).replace(/batch time \d+/, 'batch time T'));
    expect(withoutTime(workers?.failure)).toEqual(withoutTime(inline?.failure));
    expect(workers?.collected).toEqual(inline?.collected);
  }, 60_000);

  it('rejects runJob for a context that cannot start, and ends its workers (the process exits)', () => {
    const dist = pathToFileURL(resolve('dist/core/index.js')).href;
    const script = `import { runJob } from '${dist}';
      try { await runJob(new URL('${fixtureUrl('no-output-job.mjs').href}'), { workers: 2 }); } catch (error) { console.log(error.message); }`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(out).toMatch(/^StreamingContext\.start: no output operations are registered/);
  }, 60_000);
});
