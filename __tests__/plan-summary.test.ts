import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { COMMENT_MARKER, failedPlan, renderSummary, summarizePlan } from "../tools/plan-summary";
import { addressOf, deriveActions, planText } from "./support/derived-plans";
import { skipNote } from "./support/environment";
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
    expect(tableRows(markdown)).toEqual([["`aws-develop`", "—", "—", "—", "—", "plan failed"]]);
    expect(markdown).toContain("<details><summary>aws-develop: plan failed</summary>");
    expect(markdown).toContain("```\nError: No valid credential sources found\n```");
  });

  it("fences a log that itself contains a code fence so the fence cannot close early", () => {
    const markdown = renderSummary([failedPlan("aws-develop", "before\n```\nafter")]);
    expect(markdown).toContain("````\nbefore\n```\nafter\n````");
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
      ["`aws-platform`", String(platform.add), "0", "0", "—", "ok"],
      ["`aws-develop-data`", String(data.add), "0", "0", "—", "ok"],
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
    expect(tableRows(markdown)).toEqual([["`aws-develop-data`", String(created), "0", "1", `\`${db}\``, "**blocked** (1 protected)"]]);
    expect(markdown).toContain(`> **Protected:** \`${db}\` would be replaced: a database: destroying it loses its data`);
    expect(markdown).toContain("Add the label `allow-destroy` to the pull request if this is intended.");
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
      [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), path.join(ROOT, "scripts/plan-summary.ts"), "--manifest", outdir, workdir],
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
