import { readFileSync, writeFileSync } from "node:fs";
import { writeGithubOutput } from "../tools/github-output";
import { changeDifferences, openPlan, sealPlan, type SealedPlan } from "../tools/reviewed-plan";

/**
 * Seals the reviewed plan in the review job and opens it in the deploy job
 * (tools/reviewed-plan.ts).
 *
 *   tsx scripts/reviewed-plan.ts seal --stack <id> --changes <plan.json> [--plan <tfplan>] --out <file>
 *       key in PLAN_PUBLIC_KEY; without --plan the plan is a stand-in (no state yet)
 *   tsx scripts/reviewed-plan.ts open --stack <id> --in <file> --plan-out <tfplan> --changes-out <plan.json> [--github-output]
 *       key in PLAN_PRIVATE_KEY
 *   tsx scripts/reviewed-plan.ts compare <reviewed plan.json> <new plan.json>
 *
 * The commit and run are GitHub's (GITHUB_SHA, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT).
 */
const [command, ...args] = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const required = (name: string): string => {
  const value = option(name);
  if (!value) throw new Error(`${command}: ${name} is required`);
  return value;
};
const githubValue = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: this runs in a GitHub Actions job`);
  return value;
};

try {
  if (command === "seal") {
    const planFile = option("--plan");
    const sealed = sealPlan(
      planFile ? readFileSync(planFile) : null,
      JSON.parse(readFileSync(required("--changes"), "utf8")),
      { stack: required("--stack"), commit: githubValue("GITHUB_SHA"), runId: githubValue("GITHUB_RUN_ID"), runAttempt: githubValue("GITHUB_RUN_ATTEMPT"), standIn: !planFile },
      process.env.PLAN_PUBLIC_KEY ?? "",
    );
    writeFileSync(required("--out"), JSON.stringify(sealed));
    console.log(sealed.manifest.standIn ? `${sealed.manifest.stack}: stand-in plan sealed (no state yet)` : `${sealed.manifest.stack}: plan sha256 ${sealed.manifest.sha256} sealed`);
  } else if (command === "open") {
    const sealed: SealedPlan = JSON.parse(readFileSync(required("--in"), "utf8"));
    const opened = openPlan(sealed, process.env.PLAN_PRIVATE_KEY ?? "", { stack: required("--stack"), commit: githubValue("GITHUB_SHA"), runId: githubValue("GITHUB_RUN_ID") });
    if (opened.plan) writeFileSync(required("--plan-out"), opened.plan);
    writeFileSync(required("--changes-out"), JSON.stringify(opened.changes));
    const lines = [`stand-in=${opened.manifest.standIn}`, `sha256=${opened.manifest.sha256}`];
    console.log(
      opened.manifest.standIn
        ? `${opened.manifest.stack}: the reviewed plan was made without state (run ${opened.manifest.runId}, attempt ${opened.manifest.runAttempt}); the deploy plans again and applies only the same changes`
        : `${opened.manifest.stack}: applying the plan reviewed in run ${opened.manifest.runId}, attempt ${opened.manifest.runAttempt}, commit ${opened.manifest.commit}, sha256 ${opened.manifest.sha256}`,
    );
    if (args.includes("--github-output")) writeGithubOutput(lines);
  } else if (command === "compare") {
    const [reviewed, fresh] = args;
    const differences = changeDifferences(JSON.parse(readFileSync(reviewed, "utf8")), JSON.parse(readFileSync(fresh, "utf8")));
    if (differences.length > 0) {
      throw new Error(`the new plan differs from the reviewed one; nothing is applied (re-run the workflow to review it again):\n  ${differences.join("\n  ")}`);
    }
    console.log("the new plan makes exactly the reviewed changes");
  } else {
    throw new Error("usage: reviewed-plan seal|open|compare ...");
  }
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
