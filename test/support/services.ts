import { createConnection } from 'node:net';
import { describe } from 'vitest';

/*
 * The real servers some suites talk to (PostgreSQL, Redis, NATS, Mosquitto on localhost). A suite
 * whose server is unreachable is skipped with a message on a developer's machine; under
 * SLUICE_REQUIRE_SERVICES=1 (set by .ci/run) it fails instead, so CI never passes by skipping.
 */

/**
 * A server a suite needs: a name for messages, where it listens, and the command that starts it;
 * or something else it needs (a program), with `available` saying whether it is there and `start`
 * how to get it.
 */
export interface Service {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly start: string;
  /** Whether the service is there, for one that is not a server on `host:port`. */
  readonly available?: () => Promise<boolean>;
}

/** PostgreSQL 15 on 127.0.0.1:5432, trust auth, database `test`. */
export const POSTGRES: Service = {
  name: 'PostgreSQL',
  host: '127.0.0.1',
  port: 5432,
  start: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
};

/** Redis 7 on 127.0.0.1:6379 (it keeps nothing on disk). */
export const REDIS: Service = {
  name: 'Redis',
  host: '127.0.0.1',
  port: 6379,
  start: 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
};

/** The URL of the test Redis. */
export const REDIS_URL = process.env.SLUICE_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The connection string of the test database. */
export const POSTGRES_URL = process.env.SLUICE_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** NATS 2.9 with JetStream on 127.0.0.1:4222. */
export const NATS: Service = {
  name: 'NATS',
  host: '127.0.0.1',
  port: 4222,
  start: 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log',
};

/** The NATS server of the tests. */
export const NATS_URL = process.env.SLUICE_NATS_URL ?? '127.0.0.1:4222';

/** Mosquitto 2 on 127.0.0.1:1883 (anonymous clients, persistence on). */
export const MQTT: Service = {
  name: 'Mosquitto',
  host: '127.0.0.1',
  port: 1883,
  start: 'mosquitto -d -c /etc/mosquitto/mosquitto.conf',
};

/** The URL of the test MQTT broker. */
export const MQTT_URL = process.env.SLUICE_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** Whether a TCP connection to the service opens within a second. */
export async function reachable(service: Service): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: service.host, port: service.port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => { done(false); });
    socket.once('connect', () => { done(true); });
    socket.once('error', () => { done(false); });
  });
}

/**
 * `describe` for a suite that needs `services` (one or several): skipped with a message when one
 * is unreachable, or failing under SLUICE_REQUIRE_SERVICES=1.
 */
export async function describeWith(services: Service | readonly Service[], name: string, body: () => void): Promise<void> {
  const needed = Array.isArray(services) ? (services as readonly Service[]) : [services as Service];
  const down: Service[] = [];
  for (const service of needed) if (!(await (service.available ?? (() => reachable(service)))())) down.push(service);
  if (down.length === 0) {
    describe(name, body);
    return;
  }
  const why = down.map((service) => (service.available === undefined ? `${service.name} is not reachable on ${service.host}:${service.port} (start it with: ${service.start})` : `${service.name} is not available (${service.start})`)).join('; ');
  if (process.env.SLUICE_REQUIRE_SERVICES === '1') throw new Error(`${name}: ${why}; SLUICE_REQUIRE_SERVICES=1 requires it.`);
  console.warn(`skipped "${name}": ${why}.`);
  describe.skip(name, body);
}
