/** Batch k-means (Lloyd's algorithm), the tests' oracle: assign every point to its nearest center, move each center to its points' mean, until nothing moves. */
export function lloyd(points: readonly (readonly number[])[], start: readonly (readonly number[])[], maxIterations = 100): { centers: number[][]; assignment: number[] } {
  let centers = start.map((c) => [...c]);
  let assignment: number[] = [];
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const next = points.map((p) => nearestIndex(centers, p));
    const moved = centers.map((c, j) => {
      const mine = points.filter((_, i) => next[i] === j);
      return mine.length === 0 ? c : c.map((_, i) => mine.reduce((s, p) => s + (p[i] as number), 0) / mine.length);
    });
    const done = next.every((a, i) => a === assignment[i]);
    assignment = next;
    centers = moved;
    if (done) break;
  }
  return { centers, assignment };
}

/** The index of the center nearest `point` (the lowest on a tie). */
export function nearestIndex(centers: readonly (readonly number[])[], point: readonly number[]): number {
  let best = 0;
  let bestDistance = Infinity;
  centers.forEach((c, j) => {
    const distance = c.reduce((s, x, i) => s + (x - (point[i] as number)) ** 2, 0);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = j;
    }
  });
  return best;
}
