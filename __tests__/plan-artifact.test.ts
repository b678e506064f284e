import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { protectedChanges } from "../tools/destroy-guard";
import { summarizePlan } from "../tools/plan-summary";
import { addressOf, deriveActions } from "./support/derived-plans";
import { skipNote, type Availability } from "./support/environment";
import { sharedOfflinePlans } from "./support/offline-plans";
import { offlineTerraform } from "./support/offline-terraform";

const ACTION = path.resolve(__dirname, "../.github/actions/terraform-stack/action.yml");

/** The jq filter the action applies to `terraform show -json` before the plan is uploaded. */
function artifactFilter(): string {
  const steps: any[] = parse(readFileSync(ACTION, "utf8")).runs.steps;
  const script: string = steps.find((step) => String(step.run ?? "").includes("show -json")).run;
  const match = /show -json tfplan >"\$private\/\$STACK\.plan\.json"[\s\S]*?jq '([^']+)'\s*\\?\s*"\$private\/\$STACK\.plan\.json" >"\$plans\/\$STACK\.plan\.json"/.exec(script);
  if (!match) throw new Error("the plan step no longer filters `show -json` through jq into the uploaded plan");
  return match[1];
}

describe("the full plan JSON stays on the runner", () => {
  const steps: any[] = parse(readFileSync(ACTION, "utf8")).runs.steps;

  it("is written outside the uploaded directory, read only by Checkov, and deleted whatever happens", () => {
    const plan: string = steps.find((step) => step.id === "plan").run;
    expect(plan).toContain('private="$RUNNER_TEMP/private"');
    expect(plan).toContain('echo "full-plan-json=$private/$STACK.plan.json" >> "$GITHUB_OUTPUT"');
    const uploads = steps.filter((step) => String(step.uses ?? "").startsWith("actions/upload-artifact@"));
    // The plans directory, and the sealed reviewed plan alone (tools/reviewed-plan.ts).
    expect(uploads.map((step) => step.with.path)).toEqual(["${{ runner.temp }}/sealed/${{ inputs.stack }}.sealed.json", "${{ runner.temp }}/plans/"]);
    const readers = steps.filter((step) => step.id !== "plan" && JSON.stringify(step).includes("full-plan-json")).map((step) => step.id);
    expect(readers).toEqual(["setup-python", "checkov"]);
    const record = steps.find((step) => step.name === "Record the result");
    expect(record.if).toBe("always()");
    expect(record.run).toContain('rm -f "$RUNNER_TEMP/private/$STACK.plan.json"');
    expect(steps.indexOf(record)).toBeGreaterThan(steps.findIndex((step) => step.id === "checkov"));
  });
});

function jqAvailability(): Availability {
  const probe = spawnSync("jq", ["--version"], { encoding: "utf8" });
  return probe.status === 0 ? { available: true, reason: "" } : { available: false, reason: "jq is not installed" };
}

const terraform = offlineTerraform();
const jq = jqAvailability();
const ready: Availability = !terraform.available ? terraform : jq;

describe.skipIf(!ready.available)(`the uploaded plan artifact${skipNote(ready)}`, () => {
  let full: any;
  let artifact: any;

  beforeAll(() => {
    full = sharedOfflinePlans().plans["aws-production-data"].plan;
    const result = spawnSync("jq", [artifactFilter()], { input: JSON.stringify(full), encoding: "utf8" });
    if (result.status !== 0) throw new Error(`jq failed: ${result.stderr}`);
    artifact = JSON.parse(result.stdout);
  });

  it("keeps no attribute values, sensitive or not", () => {
    expect(artifact.resource_changes.length).toBe(full.resource_changes.length);
    for (const change of artifact.resource_changes) {
      expect(Object.keys(change).sort()).toEqual(["address", "change", "mode", "name", "type"]);
      expect(Object.keys(change.change)).toEqual(["actions"]);
    }
    expect(artifact.planned_values).toBeUndefined();
    expect(artifact.prior_state).toBeUndefined();
    expect(artifact.configuration).toBeUndefined();
  });

  it("summarizes to the same counts as the full plan", () => {
    expect(summarizePlan("aws-production-data", artifact)).toEqual(summarizePlan("aws-production-data", full));
  });

  it("lets the destroy guard find the same protected changes as the full plan", () => {
    const replaceDatabase = (plan: any) => deriveActions(plan, { [addressOf(plan, "aws_db_instance")]: "replace" });
    const fromArtifact = protectedChanges(replaceDatabase(artifact));
    expect(fromArtifact).toEqual(protectedChanges(replaceDatabase(full)));
    expect(fromArtifact.map((change) => change.type)).toEqual(["aws_db_instance"]);
  });
});
