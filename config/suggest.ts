import { closest, distance } from "fastest-levenshtein";

/**
 * The candidate a typo most likely meant, or undefined when none is close:
 * at most a third of the word's letters may differ, and case never counts.
 */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const lower = word.toLowerCase();
  const exact = candidates.find((candidate) => candidate.toLowerCase() === lower);
  if (exact) return exact;
  const best = closest(lower, candidates.map((candidate) => candidate.toLowerCase()));
  const match = candidates.find((candidate) => candidate.toLowerCase() === best)!;
  return distance(lower, best) <= Math.max(1, Math.floor(word.length / 3)) ? match : undefined;
}

/** ` Did you mean "x"?`, or nothing. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const match = closestMatch(word, candidates);
  return match ? `did you mean "${match}"?` : "";
}
