import { serviceKey, type CommitParticipant, type DStreamGraph } from 'sluice/extend';

/**
 * Keeps reads of a context's stores and its commits apart, for `queryState` on a context without
 * a checkpoint: a commit participant, registered after the state backends, whose `prepare` keeps
 * new reads out and waits until the reads in progress end, and whose `committed` (or `aborted`),
 * the last a commit calls, lets reads in again. A read thus sees every store as of the same committed batch.
 *
 * It takes part from the first query on: a commit already under way when it is registered does
 * not wait for it (the core takes each commit's participants when the commit starts).
 */
export class CommitGate implements CommitParticipant {
  readonly name = 'queryState gate';
  #committing = false;
  #readers = 0;
  #waiting: (() => void)[] = [];

  async prepare(): Promise<void> {
    // Closed first, so that a stream of reads cannot keep a commit waiting: new reads wait for it.
    this.#committing = true;
    while (this.#readers > 0) await this.#wait();
  }

  committed(): void {
    this.#open();
  }

  aborted(): void {
    this.#open();
  }

  /** Runs `read` when no commit is under way; commits wait for it. */
  async read<T>(read: () => Promise<T>): Promise<T> {
    while (this.#committing) await this.#wait();
    this.#readers++;
    try {
      return await read();
    } finally {
      this.#readers--;
      this.#wake();
    }
  }

  #open(): void {
    this.#committing = false;
    this.#wake();
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #wake(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const resolve of waiting) resolve();
  }
}

const GATE = serviceKey<CommitGate>('sluice/sql queryState gate');

/** The gate of `graph`'s context, registered as a commit participant on first use. */
export function commitGateOf(graph: DStreamGraph): CommitGate {
  let gate = graph.services.lookup(GATE);
  if (gate === undefined) {
    gate = new CommitGate();
    graph.services.provide(GATE, gate);
    graph.addCommitParticipant(gate);
    // A commit whose later participants were not told (POST_COMMIT_FAILED) must not hold reads forever.
    const opened = gate;
    graph.services.onStop(() => {
      opened.aborted();
    });
  }
  return gate;
}
