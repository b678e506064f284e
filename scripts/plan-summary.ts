import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import {
  failedBeforePlan,
  failedPlan,
  firstFailedStep,
  jobFailure,
  parseCheckov,
  planWaits,
  renderSummary,
  summarizePlan,
  waitingPlan,
  type ActionStep,
  type RunJob,
  type StackSummary,
} from "../tools/plan-summary";
import { deployOrder, readManifest } from "../tools/stack-order";

/**
 * Renders the pull-request comment from saved plans.
 *
 *   tsx scripts/plan-summary.ts [--allow-destroy] [--manifest cdktf.out] [--stacks '<JSON list>'] [--jobs jobs.json]
 *                               [--run-url URL] [--commit SHA] [--out file.md] <dir or file>...
 *   tsx scripts/plan-summary.ts --waits <plan-error.txt>
 *
 * For a stack `<id>` it reads `<id>.plan.json` (`terraform show -json`), and
 * `<id>.plan.txt` (`terraform show -no-color`) when present; `<id>.plan-error.txt`
 * marks a stack whose plan failed (or waits for a dependency); `<id>.checkov.txt`
 * holds `npm run policy`'s counts; `<id>.state.json` whether the stack and the
 * stacks it reads have state (scripts/state-presence.ts); `<id>.result.json` the outcome of each step
 * of .github/actions/terraform-stack. With --stacks (the plan matrix), a stack
 * without a plan is listed as failed before plan, at the step its result or
 * --jobs (the run's jobs from GitHub's API) names. With --manifest, stacks are
 * listed in dependency order.
 *
 * --waits prints the stacks a failed plan's log waits for and exits 0, or
 * exits 1 when the log shows any other error.
 */
const ROOT = path.resolve(__dirname, "..");
const ACTION = path.join(ROOT, ".github/actions/terraform-stack/action.yml");

const args = process.argv.slice(2);
const valueOf = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

const waitsLog = valueOf("--waits");
if (waitsLog !== undefined) {
  const waits = planWaits(readFileSync(waitsLog, "utf8"));
  if (!waits) process.exit(1);
  console.log(waits.join(" "));
  process.exit(0);
}

const valued = new Set(["--manifest", "--run-url", "--out", "--stacks", "--jobs", "--commit"]);
const inputs = args.filter((arg, i) => !arg.startsWith("--") && !valued.has(args[i - 1]));
const files = inputs.flatMap((input) =>
  statSync(input).isDirectory() ? readdirSync(input).map((name) => path.join(input, name)) : [input],
);
const byName = new Map(files.map((file) => [path.basename(file), file]));
const read = (name: string): string | undefined => (byName.has(name) ? readFileSync(byName.get(name)!, "utf8") : undefined);

const actionSteps: ActionStep[] = parseYaml(readFileSync(ACTION, "utf8")).runs.steps;
const jobsFile = valueOf("--jobs");
const jobs: RunJob[] = jobsFile && existsSync(jobsFile) ? JSON.parse(readFileSync(jobsFile, "utf8")) : [];
const matrix: string[] = JSON.parse(valueOf("--stacks") ?? "[]");

const suffixes = [".plan.json", ".plan-error.txt", ".result.json", ".state.json"];
const found = [...byName.keys()].flatMap((name) => suffixes.filter((suffix) => name.endsWith(suffix)).map((suffix) => name.slice(0, -suffix.length)));
const stacks = [...new Set([...matrix, ...found])];

const summaries = new Map<string, StackSummary>();
for (const stack of stacks) {
  const plan = read(`${stack}.plan.json`);
  const error = read(`${stack}.plan-error.txt`);
  const result = read(`${stack}.result.json`);
  const checkovOutput = read(`${stack}.checkov.txt`);
  const checkov = checkovOutput === undefined ? undefined : parseCheckov(stack, checkovOutput);
  const stateFile = read(`${stack}.state.json`);
  const state: { newStack?: boolean; waitsFor?: string[] } = stateFile ? JSON.parse(stateFile) : {};
  let summary: StackSummary;
  if (plan !== undefined) summary = summarizePlan(stack, JSON.parse(plan), read(`${stack}.plan.txt`));
  else if (state.waitsFor && state.waitsFor.length > 0) summary = waitingPlan(stack, state.waitsFor);
  else if (error !== undefined) summary = failedPlan(stack, error);
  else {
    const outcomes: Record<string, string> = result ? JSON.parse(result).outcomes ?? {} : {};
    summary = failedBeforePlan(stack, firstFailedStep(stack, actionSteps, outcomes) ?? jobFailure(stack, jobs));
  }
  summaries.set(stack, { ...summary, ...(checkov ? { checkov } : {}), ...(state.newStack ? { newStack: true } : {}) });
}

const manifestDir = valueOf("--manifest");
const order = manifestDir ? deployOrder(readManifest(manifestDir)) : [];
const rank = (stack: string): number => (order.includes(stack) ? order.indexOf(stack) : order.length);
const ordered = [...summaries.values()].sort((a, b) => rank(a.stack) - rank(b.stack) || a.stack.localeCompare(b.stack));

const markdown = renderSummary(ordered, { allowDestroy: args.includes("--allow-destroy"), runUrl: valueOf("--run-url"), commit: valueOf("--commit") });
const out = valueOf("--out");
if (out) writeFileSync(out, markdown);
else process.stdout.write(markdown);
