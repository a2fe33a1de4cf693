import { serviceKey } from 'sluice';
import type { LevelCheckpointer } from './level-checkpointer.js';

/** The LevelDB checkpointer of a context, for the checkpoint's own sinks. */
export const CHECKPOINT = serviceKey<LevelCheckpointer>('level checkpointer');
