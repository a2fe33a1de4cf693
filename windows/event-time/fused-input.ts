import type { Batch } from 'sluice';
import { chainStages, type FusedChain, type RecordErrors } from 'sluice/extend';

/**
 * Visits every record of a window operator's input with its event time, in partition and arrival
 * order. With a fused chain (`fusableChain` of the operator's parent), `input` is the chain's root
 * batch and each of its records is run through the chain's stages here, so the chain's records
 * (the pairs of `mapToPair`, say) reach `visit` one by one and are never gathered into arrays;
 * each keeps the time of the root record it came from. Without one, `input` is the parent's batch.
 *
 * @param withTimes - whether the operator windows by the times the records carry (no `eventTime`
 *   option); when false, `visit` gets `NaN` for the time.
 * @param errors - where the chain's error policies count the records they set aside.
 * @param describe - the operator, for the error when a batch that must carry times does not.
 */
export function forEachInputRecord(
  input: Batch<unknown>,
  chain: FusedChain | undefined,
  withTimes: boolean,
  errors: RecordErrors,
  describe: string,
  visit: (record: unknown, time: number) => void,
): void {
  const partitions = input.partitions;
  for (let p = 0; p < partitions.length; p++) {
    const partition = partitions[p] as readonly unknown[];
    const times = withTimes ? input.eventTimes?.[p] : undefined;
    // The construction-time check (`eventTimeBreak`) makes this unreachable; without it, a batch
    // that should carry times but does not would read as records the eventTime option must time.
    if (withTimes && times === undefined && partition.length > 0) throw new Error(`${describe}: the input batch carries no event times (a bug in the operator upstream).`);
    if (chain === undefined) {
      if (times === undefined) for (let i = 0; i < partition.length; i++) visit(partition[i], Number.NaN);
      else for (let i = 0; i < partition.length; i++) visit(partition[i], times[i] as number);
      continue;
    }
    // The time of the root record being run through the chain, for every record it emits.
    let time = Number.NaN;
    const handle = chainStages(chain.stages, (record) => { visit(record, time); }, errors);
    if (times === undefined) for (let i = 0; i < partition.length; i++) handle(partition[i]);
    else {
      for (let i = 0; i < partition.length; i++) {
        time = times[i] as number;
        handle(partition[i]);
      }
    }
  }
}
