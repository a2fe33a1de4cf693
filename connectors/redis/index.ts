/**
 * `sluice/redis`: Redis connectors, on node-redis. Needs the optional peer dependency `redis`
 * (`npm install redis`); `import 'sluice'` never loads it.
 */
export type { RedisCommands } from './redis-client.js';
export { redisSink, type RedisSinkOptions } from './redis-sink.js';
export { redisStreamSource, type RedisStreamRecord, type RedisStreamSourceOptions } from './redis-stream-source.js';
