/** The usual reciprocal-rank-fusion constant: it damps how much the very top ranks dominate. */
const RRF_K = 60;

/**
 * Reciprocal rank fusion of several rankings of chunk ids, scaled to 0..1: 1 for a chunk ranked
 * first by every ranking; a ranking that was consulted but left a chunk out counts against it.
 * Best first; ties keep the lower id first.
 */
export function fuseRankings(rankings: number[][]): { id: number; score: number }[] {
  if (rankings.length === 0) return [];
  const sums = new Map<number, number>();
  for (const ranking of rankings) {
    ranking.forEach((id, index) => sums.set(id, (sums.get(id) ?? 0) + 1 / (RRF_K + index + 1)));
  }
  const best = rankings.length / (RRF_K + 1);
  return [...sums]
    .map(([id, sum]) => ({ id, score: Math.min(1, sum / best) }))
    .sort((a, b) => b.score - a.score || a.id - b.id);
}
