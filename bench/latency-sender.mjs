// The sender of scenario 6 (latency.mjs), run as a child process so that it never shares the
// engine's event loop. It is the TCP server the engine's socket source connects to: on `go` it
// writes `rate` lines a second for `durationMs`, paced by wall clock in small chunks (whatever is
// due every millisecond or so), each line `<wall-clock send time in ms>,<key>`. It talks to its
// parent over the IPC channel: `listening` (the port), `pong` (its clock), `done` (what it sent).
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers';
import { seededRandom } from 'sluice/testing';
import { keyNames } from './lib.mjs';

/**
 * @typedef {{ type: 'go', rate: number, durationMs: number, keys: number } | { type: 'ping' } | { type: 'exit' }} ToSender
 * @typedef {{ type: 'listening', port: number } | { type: 'pong', at: number }
 *   | { type: 'done', sent: number, startedAt: number, endedAt: number, ticks: number, maxTickGapMs: number, maxBufferedBytes: number }} FromSender
 */

/** The wall clock in ms with sub-millisecond resolution, comparable across processes. */
const wallNow = () => performance.timeOrigin + performance.now();
const send = (/** @type {FromSender} */ message) => process.send?.(message);

/** @type {import('node:net').Socket | undefined} */
let socket;
/** @type {Extract<ToSender, { type: 'go' }> | undefined} */
let go;

const server = createServer((s) => {
  s.setNoDelay(true);
  s.on('error', () => undefined); // the engine closes its end when it stops
  if (socket !== undefined) return; // one run, on the first connection
  socket = s;
  if (go !== undefined) run(s, go);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  send({ type: 'listening', port: typeof address === 'object' && address !== null ? address.port : 0 });
});

// A parent that dies (or disconnects) takes the sender with it.
process.on('disconnect', () => process.exit(0));
process.on('message', (/** @type {ToSender} */ message) => {
  if (message.type === 'ping') send({ type: 'pong', at: wallNow() });
  else if (message.type === 'go') {
    go = message;
    if (socket !== undefined) run(socket, go);
  } else {
    socket?.destroy();
    server.close();
    process.disconnect();
  }
});

/**
 * Writes `rate * durationMs / 1000` lines, each tick all the lines due by then, stamped with the
 * time of the write; reports `done` once the last one is handed to the kernel.
 *
 * @param {import('node:net').Socket} s @param {{ rate: number, durationMs: number, keys: number }} o
 */
function run(s, { rate, durationMs, keys }) {
  const names = keyNames(keys);
  const rand = seededRandom(0x1a7e);
  const total = Math.round((rate * durationMs) / 1000);
  const t0 = performance.now();
  const startedAt = performance.timeOrigin + t0;
  let sent = 0;
  let ticks = 0;
  let last = t0;
  let maxTickGapMs = 0;
  let maxBufferedBytes = 0;
  const tick = () => {
    const now = performance.now();
    ticks++;
    maxTickGapMs = Math.max(maxTickGapMs, now - last);
    last = now;
    const due = Math.min(total, Math.floor(((now - t0) * rate) / 1000));
    if (due > sent) {
      const stamp = (performance.timeOrigin + now).toFixed(3);
      let text = '';
      for (; sent < due; sent++) text += `${stamp},${names[Math.floor(rand() * keys)] ?? ''}\n`;
      if (sent === total) {
        s.write(text, () => {
          send({ type: 'done', sent, startedAt, endedAt: wallNow(), ticks, maxTickGapMs, maxBufferedBytes });
        });
        return;
      }
      s.write(text);
    }
    maxBufferedBytes = Math.max(maxBufferedBytes, s.writableLength);
    setTimeout(tick, 1);
  };
  tick();
}
