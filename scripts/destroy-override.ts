import { existsSync, readFileSync } from "node:fs";
import { overrideDecision, type OverrideEvidence } from "../tools/destroy-override";
import { writeGithubOutput } from "../tools/github-output";

/**
 * Judges the `allow-destroy` override from the evidence
 * scripts/override-evidence.cjs read (tools/destroy-override.ts).
 *
 *   tsx scripts/destroy-override.ts --at pull-request|deploy <evidence.json> [--github-output]
 *
 * Prints `allow-destroy=true|false` and the reason, as a notice when the
 * label is present but does not count. Without the evidence file (GitHub's
 * API could not be read) the override does not hold: the guard then blocks
 * protected deletions, nothing else.
 */
const args = process.argv.slice(2);
const at = args[args.indexOf("--at") + 1];
const file = args.find((arg, i) => !arg.startsWith("--") && args[i - 1] !== "--at");

try {
  if ((at !== "pull-request" && at !== "deploy") || !file) throw new Error("usage: destroy-override --at pull-request|deploy <evidence.json> [--github-output]");
  const evidence: OverrideEvidence | undefined = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : undefined;
  const decision = evidence
    ? overrideDecision(evidence, at)
    : { allowed: false, reason: "'allow-destroy' does not apply: its evidence could not be read from GitHub's API (see the step before)" };
  const labelled = !evidence || evidence.events.length > 0;
  if (!decision.allowed && labelled) console.log(`::notice title=allow-destroy::${decision.reason}`);
  else console.log(decision.reason);
  if (args.includes("--github-output")) {
    writeGithubOutput([`allow-destroy=${decision.allowed}`]);
  } else {
    console.log(`allow-destroy=${decision.allowed}`);
  }
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
