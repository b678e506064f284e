/**
 * Counts how the corpus of wrong and edge-case configurations fares
 * (tools/config-corpus.ts).
 *
 *   npx tsx scripts/config-corpus.ts            # counts
 *   npx tsx scripts/config-corpus.ts --list     # one line per case that is not rejected well
 */
import { BAD_CONFIGS } from "../__tests__/support/bad-configs";
import { outcomeOf, type Outcome } from "../tools/config-corpus";

const counts: Record<Outcome, number> = { well: 0, slipped: 0, misleading: 0 };
const list = process.argv.includes("--list");
for (const testCase of BAD_CONFIGS) {
  const { outcome, detail } = outcomeOf(testCase);
  counts[outcome]++;
  if (list && outcome !== "well") console.log(`[${outcome}] (${testCase.point}) ${testCase.name}: ${detail}`);
}
console.log(`${BAD_CONFIGS.length} configs: ${counts.well} rejected well (or, for valid edge cases, accepted), ${counts.slipped} slipped through, ${counts.misleading} misleading`);
