/**
 * `sluice/nats`: NATS JetStream connectors. Needs the optional peer dependencies
 * `@nats-io/jetstream` and `@nats-io/transport-node` (`npm install @nats-io/jetstream
 * @nats-io/transport-node`); `import 'sluice'` never loads them.
 */
export { jetStreamSource, JetStreamSource, type JetStreamRecord, type JetStreamSourceOptions } from './jetstream-source.js';
export { jetStreamSink, type JetStreamPartitioning, type JetStreamSinkOptions, type PartitionFence } from './jetstream-sink.js';
export { PartitionedJetStreamSource, type JetStreamPartitionSelection } from './partitioned-source.js';
export { partitionOf } from './partitions.js';
export type { MessageDecoder, MessageFormat } from './message-format.js';
export { assignPartitions, assignStandbys } from './group/assign-partitions.js';
export { PartitionGroup, type FencingToken, type PartitionGroupEvent, type PartitionGroupOptions } from './group/partition-group.js';
export { PartitionLostError } from './group/partition-lost-error.js';
export { ChangelogStream, type ChangelogStreamOptions, type LoggedPlan, type RestoredPartition, type StateChange } from './group/changelog-stream.js';
export { PartitionCopy } from './group/partition-copy.js';
export { changelogCheckpoint, type ChangelogCheckpointOptions } from './group/changelog-checkpoint.js';
export { groupSource, type GroupSourceOptions } from './group/group-source.js';
export { runJobGroup } from './group/job-group-run.js';
