import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  COMMENT_MARKER,
  failedBeforePlan,
  failedPlan,
  firstFailedStep,
  jobFailure,
  parseCheckov,
  planWaits,
  renderSummary,
  summarizePlan,
} from "../tools/plan-summary";
import { addressOf, deriveActions, planText } from "./support/derived-plans";
import { skipNote, tsxScript } from "./support/environment";
import { sharedOfflinePlans } from "./support/offline-plans";
import { offlineTerraform } from "./support/offline-terraform";

const terraform = offlineTerraform();
const ROOT = path.resolve(__dirname, "..");

/** The table rows of a rendered summary, as cells. */
function tableRows(markdown: string): string[][] {
  return markdown
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => line.slice(2, -2).split(" | "));
}

/** Terraform's own "Plan: N to add, N to change, N to destroy." line. */
function terraformCounts(text: string): { add: number; change: number; destroy: number } {
  const match = /Plan: (\d+) to add, (\d+) to change, (\d+) to destroy\./.exec(text);
  if (!match) throw new Error("no Plan: line in the text plan");
  return { add: Number(match[1]), change: Number(match[2]), destroy: Number(match[3]) };
}

describe("plan summary of a failed plan", () => {
  it("shows the stack as failed with its log folded underneath", () => {
    const markdown = renderSummary([failedPlan("aws-develop", "Error: No valid credential sources found")]);
    expect(tableRows(markdown)).toEqual([["`aws-develop`", "—", "—", "—", "—", "plan failed", "—"]]);
    expect(markdown).toContain("<details><summary>aws-develop: plan failed</summary>");
    expect(markdown).toContain("```\nError: No valid credential sources found\n```");
  });

  it("fences a log that itself contains a code fence so the fence cannot close early", () => {
    const markdown = renderSummary([failedPlan("aws-develop", "before\n```\nafter")]);
    expect(markdown).toContain("````\nbefore\n```\nafter\n````");
  });
});

const ACTION_STEPS = parseYaml(readFileSync(path.join(ROOT, ".github/actions/terraform-stack/action.yml"), "utf8")).runs.steps;

function summaryCli(dir: string, ...flags: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, tsxScript("scripts/plan-summary.ts", ...flags, dir), { encoding: "utf8" });
}

describe("every stack of the matrix has a row", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "plan-rows-"));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("names the first failed step of the action, by its name in the action, whatever failed after it", () => {
    const outcomes = { identity: "success", "setup-terraform": "success", download: "success", "aws-credentials": "failure", plan: "skipped" };
    expect(firstFailedStep("aws-develop", ACTION_STEPS, outcomes)).toBe("AWS credentials (OIDC)");
    expect(firstFailedStep("aws-develop", ACTION_STEPS, { ...outcomes, "aws-credentials": "success", plan: "failure" })).toBe("Plan aws-develop");
    expect(firstFailedStep("aws-develop", ACTION_STEPS, { identity: "success" })).toBeUndefined();
  });

  it("for a job that left nothing, names the failed step GitHub lists, or says the job did not run", () => {
    const jobs = [
      { name: "Plan aws-develop", conclusion: "failure", steps: [{ name: "Set up job", conclusion: "success" }, { name: "Run npm ci", conclusion: "failure" }] },
      { name: "Plan aws-staging", conclusion: "cancelled", steps: [] },
    ];
    expect(jobFailure("aws-develop", jobs)).toBe("Run npm ci");
    expect(jobFailure("aws-staging", jobs)).toBe("job cancelled");
    expect(jobFailure("aws-production", jobs)).toBe("no job ran");
  });

  it("the CLI lists every stack of the matrix, also those whose job failed before the plan, with the step", () => {
    writeFileSync(path.join(dir, "aws-platform.plan.json"), JSON.stringify({ format_version: "1.2", resource_changes: [] }));
    writeFileSync(path.join(dir, "aws-platform.checkov.txt"), "aws-platform: passed 212, failed 0, accepted 4\n");
    writeFileSync(
      path.join(dir, "aws-develop.result.json"),
      JSON.stringify({ stack: "aws-develop", outcomes: { identity: "success", "setup-terraform": "success", download: "success", "aws-credentials": "failure", plan: "skipped" } }),
    );
    const jobsFile = path.join(dir, "..", `${path.basename(dir)}-jobs.json`);
    writeFileSync(jobsFile, JSON.stringify([{ name: "Plan azure-platform", conclusion: "failure", steps: [{ name: "Run npm ci", conclusion: "failure" }] }]));
    const stacks = ["aws-platform", "azure-platform", "aws-develop", "azure-develop"];
    const result = summaryCli(dir, "--stacks", JSON.stringify(stacks), "--jobs", jobsFile);
    rmSync(jobsFile, { force: true });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(tableRows(result.stdout).map((row) => [row[0], row[5], row[6]])).toEqual([
      ["`aws-develop`", "failed before plan: AWS credentials (OIDC)", "—"],
      ["`aws-platform`", "ok", "passed 212, accepted 4"],
      ["`azure-develop`", "failed before plan: no job ran", "—"],
      ["`azure-platform`", "failed before plan: Run npm ci", "—"],
    ]);
    expect(result.stdout).toContain("<details><summary>aws-develop: failed before plan, at AWS credentials (OIDC)</summary>");
  });

  it("shows Checkov's counts, and a failure not accepted in bold", () => {
    expect(parseCheckov("aws-production", "scanning...\naws-production: passed 300, failed 2, accepted 5\n")).toEqual({ passed: 300, failed: 2, accepted: 5 });
    expect(parseCheckov("aws-production", "aws-production-data: passed 1, failed 0, accepted 0")).toBeUndefined();
    const summary = { ...failedBeforePlan("aws-production", "x"), beforePlan: undefined, checkov: { passed: 300, failed: 2, accepted: 5 } };
    expect(tableRows(renderSummary([summary]))[0][6]).toBe("**failed 2** (passed 300, accepted 5)");
  });
});

/**
 * Runs the real Terraform on a one-file configuration that reads a stack's
 * outputs through the same data source cdktf generates, and returns its log.
 */
function planLog(dir: string, name: string, state: object | undefined, extra: Record<string, unknown> = {}, extraRemoteState: Record<string, unknown> = {}): string {
  const work = path.join(dir, name);
  mkdirSync(work, { recursive: true });
  const statePath = path.join(work, "producer.tfstate");
  if (state) writeFileSync(statePath, JSON.stringify(state));
  const reference = "${data.terraform_remote_state.cross-stack-reference-input-aws-platform.outputs.cross-stack-output-aws_eks_clustereks_cluster_55B0C966endpoint}";
  writeFileSync(
    path.join(work, "cdk.tf.json"),
    JSON.stringify({
      data: {
        terraform_remote_state: {
          "cross-stack-reference-input-aws-platform": { backend: "local", config: { path: statePath }, workspace: "${terraform.workspace}" },
          ...extraRemoteState,
        },
      },
      output: { endpoint: { value: reference }, ...extra },
    }),
  );
  const env = { ...process.env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1", TF_INPUT: "0" };
  const init = spawnSync(terraform.terraform!, [`-chdir=${work}`, "init", "-input=false", "-no-color"], { encoding: "utf8", env });
  const plan = spawnSync(terraform.terraform!, [`-chdir=${work}`, "plan", "-input=false", "-no-color", "-lock=false"], { encoding: "utf8", env });
  expect(plan.status).toBe(1);
  return init.stdout + init.stderr + plan.stdout + plan.stderr;
}

describe.skipIf(!terraform.available)(`a plan that waits for a stack not applied yet, from Terraform's own errors${skipNote(terraform)}`, () => {
  let dir: string;
  const stateWith = (outputs: Record<string, unknown>) => ({ version: 4, terraform_version: "1.11.4", serial: 1, lineage: "test", outputs, resources: [] });
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "plan-waits-"));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("first rollout: the dependency has no state yet", () => {
    const log = planLog(dir, "no-state", undefined);
    expect(log).toContain("Unable to find remote state");
    expect(planWaits(log)).toEqual(["aws-platform"]);
    const markdown = renderSummary([failedPlan("aws-develop", log)]);
    expect(tableRows(markdown)[0].slice(5)).toEqual(["waits for `aws-platform`", "—"]);
    expect(markdown).toContain("<details><summary>aws-develop: waits for aws-platform</summary>");
    expect(markdown).toContain("Not planned yet: `aws-develop` read stacks that are not applied yet");
  });

  it("a pull request adds an output the applied dependency does not have yet", () => {
    const log = planLog(dir, "new-output", stateWith({ "cross-stack-output-other": { value: "x", type: "string" } }));
    expect(log).toContain("Unsupported attribute");
    expect(planWaits(log)).toEqual(["aws-platform"]);
  });

  it("any other error is a failure, also beside a wait", () => {
    const broken = { broken: { value: "${aws_vpc.missing.id}" } };
    const alone = planLog(dir, "other-error", stateWith({ "cross-stack-output-aws_eks_clustereks_cluster_55B0C966endpoint": { value: "x", type: "string" } }), broken);
    expect(planWaits(alone)).toBeUndefined();
    // A remote state cdktf did not write is the configuration's own business, not a stack to wait for.
    const manual = { manual: { backend: "local", config: { path: path.join(dir, "nowhere.tfstate") } } };
    const mixed = planLog(dir, "mixed", undefined, {}, manual);
    expect(mixed).toContain("data.terraform_remote_state.cross-stack-reference-input-aws-platform");
    expect(mixed).toContain("data.terraform_remote_state.manual");
    expect(planWaits(mixed)).toBeUndefined();
    expect(tableRows(renderSummary([failedPlan("aws-develop", mixed)]))[0][5]).toBe("plan failed");
  });

  it("the CLI's --waits, as the action calls it, prints the stacks or fails", () => {
    const file = path.join(dir, "aws-develop.plan-error.txt");
    writeFileSync(file, planLog(dir, "cli", undefined));
    const waits = spawnSync(process.execPath, tsxScript("scripts/plan-summary.ts", "--waits", file), { encoding: "utf8" });
    expect({ status: waits.status, stdout: waits.stdout }).toEqual({ status: 0, stdout: "aws-platform\n" });
    writeFileSync(file, "Error: No valid credential sources found\n");
    const failed = spawnSync(process.execPath, tsxScript("scripts/plan-summary.ts", "--waits", file), { encoding: "utf8" });
    expect({ status: failed.status, stdout: failed.stdout }).toEqual({ status: 1, stdout: "" });
  });
});

describe.skipIf(!terraform.available)(`plan summary of real offline plans${skipNote(terraform)}`, () => {
  let outdir: string;
  const plans: Record<string, any> = {};
  const texts: Record<string, string> = {};
  let workdir: string;

  beforeAll(() => {
    const shared = sharedOfflinePlans();
    outdir = shared.outdir;
    for (const id of ["aws-platform", "aws-develop-data"]) {
      plans[id] = shared.plans[id].plan;
      texts[id] = planText(terraform, shared.plans[id]);
    }
    workdir = mkdtempSync(path.join(tmpdir(), "plan-summary-"));
  });
  afterAll(() => {
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  it.each(["aws-platform", "aws-develop-data"])("counts the real plan of %s as Terraform's own plan output does", (id) => {
    const summary = summarizePlan(id, plans[id]);
    expect({ add: summary.add, change: summary.change, destroy: summary.destroy }).toEqual(terraformCounts(texts[id]));
    expect(summary.add).toBeGreaterThan(0);
    expect(summary.replaced).toEqual([]);
  });

  it("renders one row per stack, in the order given, with the counts", () => {
    const markdown = renderSummary([summarizePlan("aws-platform", plans["aws-platform"]), summarizePlan("aws-develop-data", plans["aws-develop-data"])]);
    const platform = terraformCounts(texts["aws-platform"]);
    const data = terraformCounts(texts["aws-develop-data"]);
    expect(tableRows(markdown)).toEqual([
      ["`aws-platform`", String(platform.add), "0", "0", "—", "ok", "—"],
      ["`aws-develop-data`", String(data.add), "0", "0", "—", "ok", "—"],
    ]);
  });

  it("starts with the hidden marker the workflow finds its comment by", () => {
    const markdown = renderSummary([summarizePlan("aws-platform", plans["aws-platform"])]);
    expect(markdown.split("\n")[0]).toBe(COMMENT_MARKER);
    expect(COMMENT_MARKER).toMatch(/^<!--.*-->$/);
  });

  it("folds each full plan under its own details element", () => {
    const markdown = renderSummary([summarizePlan("aws-develop-data", plans["aws-develop-data"], texts["aws-develop-data"])]);
    const counts = terraformCounts(texts["aws-develop-data"]);
    expect(markdown).toContain(`<details><summary>aws-develop-data: ${counts.add} to add, 0 to change, 0 to destroy</summary>`);
    expect(markdown).toContain(texts["aws-develop-data"].trimEnd());
    expect(markdown).toContain(`\`${addressOf(plans["aws-develop-data"], "aws_db_instance")}\``);
    expect(markdown).not.toContain("_Cut at");
  });

  it("derived from the real plan: a replaced database adds one, destroys one and is listed as replaced and blocked", () => {
    const db = addressOf(plans["aws-develop-data"], "aws_db_instance");
    const summary = summarizePlan("aws-develop-data", deriveActions(plans["aws-develop-data"], { [db]: "replace" }));
    const created = terraformCounts(texts["aws-develop-data"]).add;
    expect({ add: summary.add, change: summary.change, destroy: summary.destroy, replaced: summary.replaced }).toEqual({
      add: created,
      change: 0,
      destroy: 1,
      replaced: [db],
    });
    const markdown = renderSummary([summary]);
    expect(tableRows(markdown)).toEqual([["`aws-develop-data`", String(created), "0", "1", `\`${db}\``, "**blocked** (1 protected)", "—"]]);
    expect(markdown).toContain(`> **Protected:** \`${db}\` would be replaced: a database: destroying it loses its data`);
    expect(markdown).toContain("If this is intended, someone with write, maintain or admin rights adds the label `allow-destroy` after the last push (it holds for that commit only).");
  });

  it("derived from the real plan: deletions and updates are counted apart, and the override shows as allowed", () => {
    const plan = plans["aws-develop-data"];
    const vault = addressOf(plan, "aws_backup_vault");
    const topic = addressOf(plan, "aws_sns_topic");
    const db = addressOf(plan, "aws_db_instance");
    const summary = summarizePlan("aws-develop-data", deriveActions(plan, { [vault]: "delete", [topic]: "delete", [db]: "update" }));
    expect({ change: summary.change, destroy: summary.destroy, deleted: summary.deleted, updated: summary.updated }).toEqual({
      change: 1,
      destroy: 2,
      deleted: [vault, topic].sort(),
      updated: [db],
    });
    const markdown = renderSummary([summary], { allowDestroy: true });
    expect(tableRows(markdown)[0][5]).toBe("allowed (1 protected, 'allow-destroy')");
    expect(markdown).not.toContain("Add the label");
  });

  it("cuts the plans' text to stay under the comment limit and says where the full plans are", () => {
    const summaries = ["aws-platform", "aws-develop-data"].map((id) => summarizePlan(id, plans[id], texts[id]));
    const full = texts["aws-platform"].length + texts["aws-develop-data"].length;
    const maxLength = Math.floor(full / 2);
    const markdown = renderSummary(summaries, { maxLength, runUrl: "https://github.com/acme/platform/actions/runs/1" });
    expect(markdown.length).toBeLessThanOrEqual(maxLength);
    expect(markdown).toContain("the full plan is in the workflow run's artifacts");
    expect(markdown).toContain("Plans of this commit: https://github.com/acme/platform/actions/runs/1");
  });

  it("keeps a short plan whole and cuts only the long one when both do not fit", () => {
    const [short, long] = ["aws-develop-data", "aws-platform"];
    expect(texts[short].length).toBeLessThan(texts[long].length / 2);
    const summaries = [long, short].map((id) => summarizePlan(id, plans[id], texts[id]));
    const maxLength = 2 * texts[short].length + 20_000;
    const markdown = renderSummary(summaries, { maxLength });
    expect(markdown.length).toBeLessThanOrEqual(maxLength);
    expect(markdown).toContain(texts[short].trimEnd());
    expect(markdown.match(/_Cut at \d+ of (\d+) characters/g)).toEqual([expect.stringContaining(`of ${texts[long].length} characters`)]);
  });

  it("the CLI reads a directory of saved plans and lists stacks in the manifest's dependency order", () => {
    writeFileSync(path.join(workdir, "aws-develop-data.plan.json"), JSON.stringify(plans["aws-develop-data"]));
    writeFileSync(path.join(workdir, "aws-develop-data.plan.txt"), texts["aws-develop-data"]);
    writeFileSync(path.join(workdir, "aws-platform.plan.json"), JSON.stringify(plans["aws-platform"]));
    writeFileSync(path.join(workdir, "aws-develop.plan-error.txt"), "Error: reading remote state");
    const result = spawnSync(
      process.execPath,
      tsxScript("scripts/plan-summary.ts", "--manifest", outdir, workdir),
      { encoding: "utf8" },
    );
    expect(result.status).toBe(0);
    expect(tableRows(result.stdout).map((row) => [row[0], row[5]])).toEqual([
      ["`aws-platform`", "ok"],
      ["`aws-develop-data`", "ok"],
      ["`aws-develop`", "plan failed"],
    ]);
    expect(result.stdout).toContain(texts["aws-develop-data"].trimEnd());
  });
});
