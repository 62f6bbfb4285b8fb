import type { Ranking } from './rankings.js';

/** The usual reciprocal-rank-fusion constant: it damps how much the very top ranks dominate. */
const RRF_K = 60;

/**
 * Reciprocal rank fusion, each ranking's 1/(k + rank) scaled by its relevance for the chunk, so
 * that a chunk ranked first among poor matches does not score as a good match. Scaled to 0..1:
 * 1 for a chunk ranked first, fully relevant, by every ranking; a ranking that was consulted but
 * left a chunk out counts against it. Best first; ties keep the lower id first.
 */
export function fuseRankings(rankings: Ranking[]): { id: number; score: number }[] {
  if (rankings.length === 0) return [];
  const sums = new Map<number, number>();
  for (const ranking of rankings) {
    ranking.forEach(({ id, relevance }, index) => sums.set(id, (sums.get(id) ?? 0) + relevance / (RRF_K + index + 1)));
  }
  const best = rankings.length / (RRF_K + 1);
  return [...sums]
    .map(([id, sum]) => ({ id, score: Math.min(1, sum / best) }))
    .sort((a, b) => b.score - a.score || a.id - b.id);
}
