import type { DStream } from './dstream.js';

/**
 * The watermarked streams (those registered with the graph's watermark tracker by
 * `withWatermark`) nearest to `stream` on each path upstream, `stream` itself included: a
 * watermarked stream hides the ones above it. Nearest first, in depth-first order of the parents.
 */
export function watermarkedAncestors(stream: DStream<unknown>): DStream<unknown>[] {
  const found: DStream<unknown>[] = [];
  const seen = new Set<number>();
  const tracker = stream.graph.watermarks;
  const visit = (node: DStream<unknown>): void => {
    if (seen.has(node.id)) return;
    seen.add(node.id);
    if (tracker.has(node.id)) found.push(node);
    else for (const parent of node.parents) visit(parent);
  };
  visit(stream);
  return found;
}
