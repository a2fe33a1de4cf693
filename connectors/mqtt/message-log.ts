/*
 * How a received MQTT message is written to the receiver write-ahead log (one string per message)
 * and read back: `[receivedAt, packetId, topic, payload base64]` as JSON. The packet id (0 for QoS 0)
 * lets the source recognise a QoS 1 message the broker sends again (DUP) because it did not get its
 * PUBACK before the connection or the process went away.
 */

/** A message as the log holds it. */
export interface LoggedMessage {
  readonly time: number;
  readonly packetId: number;
  readonly topic: string;
  readonly payload: Buffer;
}

/** The log entry of a message. */
export function encodeMessage(time: number, packetId: number, topic: string, payload: Buffer): string {
  return JSON.stringify([time, packetId, topic, payload.toString('base64')]);
}

/** What identifies a message among redeliveries: its topic and payload (the entry without its time and id). */
export function redeliveryKey(entry: string): string {
  // The entry is `[time,id,"topic","base64"]`: the part after the second comma.
  const first = entry.indexOf(',');
  return entry.slice(entry.indexOf(',', first + 1) + 1);
}

/** A log entry, decoded; throws for an entry that is not one (a damaged log). */
export function decodeMessage(entry: string): LoggedMessage {
  const parsed = JSON.parse(entry) as unknown;
  if (!Array.isArray(parsed) || parsed.length !== 4 || typeof parsed[0] !== 'number' || typeof parsed[1] !== 'number' || typeof parsed[2] !== 'string' || typeof parsed[3] !== 'string') {
    throw new TypeError(`not an MQTT message entry: ${entry.slice(0, 200)}`);
  }
  return { time: parsed[0], packetId: parsed[1], topic: parsed[2], payload: Buffer.from(parsed[3], 'base64') };
}

/** The packet id of a log entry, without decoding its payload. */
export function entryPacketId(entry: string): number {
  const first = entry.indexOf(',');
  return Number(entry.slice(first + 1, entry.indexOf(',', first + 1)));
}
