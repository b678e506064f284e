import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { writeGithubOutput } from "../tools/github-output";
import { readManifest } from "../tools/stack-order";
import { stackStates, statePresence } from "../tools/state-presence";

/**
 * Tells whether a synthesized stack has state, and which of the stacks it
 * reads have none yet, asking the storage with the job's credentials
 * (`aws s3api head-object`, `az storage blob exists`): nothing is written.
 *
 *   tsx scripts/state-presence.ts --stack <id> [--outdir cdktf.out] [--json <file>] [--github-output]
 *
 * Prints `new-stack=true|false`, `waits-for=<stacks, space-separated>` and
 * `backend=<s3|azurerm>`; `--json` writes the same for the plan summary.
 */
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

try {
  const stack = option("--stack");
  if (!stack) throw new Error("usage: state-presence --stack <id> [--outdir cdktf.out] [--json <file>] [--github-output]");
  const outdir = option("--outdir") ?? "cdktf.out";
  const entry = readManifest(outdir).stacks[stack];
  if (!entry) throw new Error(`${stack} is not in ${outdir}/manifest.json`);
  const json = JSON.parse(readFileSync(path.join(outdir, entry.synthesizedStackPath), "utf8"));
  const presence = statePresence(stackStates(stack, json));
  const lines = [`new-stack=${presence.newStack}`, `waits-for=${presence.waitsFor.join(" ")}`, `backend=${presence.backend}`];
  console.log(lines.join("\n"));
  const file = option("--json");
  if (file) writeFileSync(file, `${JSON.stringify({ stack, ...presence })}\n`);
  if (args.includes("--github-output")) writeGithubOutput(lines);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
