import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { failedPlan, renderSummary, summarizePlan, type StackSummary } from "../tools/plan-summary";
import { deployOrder, readManifest } from "../tools/stack-order";

/**
 * Renders the pull-request comment from saved plans.
 *
 *   tsx scripts/plan-summary.ts [--allow-destroy] [--manifest cdktf.out] [--run-url URL] [--out file.md] <dir or file>...
 *
 * For a stack `<id>` it reads `<id>.plan.json` (`terraform show -json`), and
 * `<id>.plan.txt` (`terraform show -no-color`) when present; `<id>.plan-error.txt`
 * marks a stack whose plan failed. With --manifest, stacks are listed in
 * dependency order.
 */
const args = process.argv.slice(2);
const valueOf = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const valued = new Set(["--manifest", "--run-url", "--out"]);
const inputs = args.filter((arg, i) => !arg.startsWith("--") && !valued.has(args[i - 1]));

const files = inputs.flatMap((input) =>
  statSync(input).isDirectory() ? readdirSync(input).map((name) => path.join(input, name)) : [input],
);
const summaries = new Map<string, StackSummary>();
for (const file of files) {
  const name = path.basename(file);
  if (name.endsWith(".plan.json")) {
    const stack = name.slice(0, -".plan.json".length);
    const textFile = file.replace(/\.plan\.json$/, ".plan.txt");
    const text = existsSync(textFile) ? readFileSync(textFile, "utf8") : undefined;
    summaries.set(stack, summarizePlan(stack, JSON.parse(readFileSync(file, "utf8")), text));
  } else if (name.endsWith(".plan-error.txt")) {
    const stack = name.slice(0, -".plan-error.txt".length);
    if (!summaries.has(stack)) summaries.set(stack, failedPlan(stack, readFileSync(file, "utf8")));
  }
}

const manifestDir = valueOf("--manifest");
const order = manifestDir ? deployOrder(readManifest(manifestDir)) : [];
const rank = (stack: string): number => (order.includes(stack) ? order.indexOf(stack) : order.length);
const ordered = [...summaries.values()].sort((a, b) => rank(a.stack) - rank(b.stack) || a.stack.localeCompare(b.stack));

const markdown = renderSummary(ordered, { allowDestroy: args.includes("--allow-destroy"), runUrl: valueOf("--run-url") });
const out = valueOf("--out");
if (out) writeFileSync(out, markdown);
else process.stdout.write(markdown);
