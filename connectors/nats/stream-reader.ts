import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { PullCursor, type StoredMessage } from './pull-cursor.js';

/*
 * Reads a range of a stream's messages by sequence number through a short-lived consumer: a
 * {@link PullCursor} at the range's first sequence that never asks for messages past its last,
 * deleted once the range is read. Server 2.9 has neither multi-subject consumer filters nor
 * batched direct gets (both 2.10+/2.11), and a direct get per message would be a request per
 * record; the consumer is one request and a stream of messages, and the pending count of each
 * says whether more matching messages exist.
 */

/** What {@link readMessages} reads. */
export interface ReadRequest {
  readonly stream: string;
  /** The subject filters (none: every subject). */
  readonly subjects: readonly string[];
  /** The first sequence to read. */
  readonly from: number;
  /** The last sequence to read (inclusive). */
  readonly until: number;
  /** The most matching messages to read. */
  readonly max: number;
}

/**
 * The matching messages with sequences in `[from, until]`, at most `max`, in order.
 *
 * @throws Error when the server does not deliver messages it said it holds (named as a transient client error).
 */
export async function readMessages(nc: NatsConnection, request: ReadRequest): Promise<StoredMessage[]> {
  const { stream, subjects, from, until, max } = request;
  if (until < from || max <= 0) return [];
  const cursor = await PullCursor.open(nc, await jetstreamManager(nc, { checkAPI: false }), { stream, subjects, from, until });
  try {
    return await cursor.take(max, until);
  } finally {
    await cursor.close();
  }
}

/** The stream's first and last sequence numbers, and its retention. */
export async function streamState(nc: NatsConnection, stream: string): Promise<{ readonly first: number; readonly last: number; readonly retention: string }> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const info = await jsm.streams.info(stream);
  return { first: info.state.first_seq, last: info.state.last_seq, retention: info.config.retention };
}
