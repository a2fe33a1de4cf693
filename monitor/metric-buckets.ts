/** The fractions of the batch interval a duration histogram's buckets sit at: fine below it, coarse above. */
const FRACTIONS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 5, 10] as const;

/**
 * The bucket bounds, in seconds, of a histogram of batch durations (processing time, delays,
 * checkpoint commits) for a context whose batches come every `batchIntervalMs`: a batch that keeps
 * up lands below the bucket at the interval itself, so `le` equal to the interval reads as "kept up".
 */
export function batchBuckets(batchIntervalMs: number): number[] {
  return FRACTIONS.map((f) => Number(((batchIntervalMs * f) / 1000).toPrecision(6)));
}
