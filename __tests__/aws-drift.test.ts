import { describe, expect, it } from "vitest";
import { skipNote } from "./support/environment";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { applyRoutineDrift, convergeState, offlineTerraform, planAgainstState, resourceSchemas, stateFromPlan } from "./support/offline-terraform";
import { sharedOfflinePlans } from "./support/offline-plans";

const terraform = offlineTerraform();
const AWS_STACKS = ["aws-platform", "aws-develop-data", "aws-staging-data", "aws-production-data"];

/**
 * The real AWS provider, offline, against a prior state that represents each
 * stack as planned plus routine drift: a later apply may update in place,
 * never replace or delete.
 */
describe.skipIf(!terraform.available)(`routine drift replaces and deletes nothing${skipNote(terraform)}`, () => {
  const results = new Map<string, Promise<{ drifted: string[]; plan: any; baseline: { rounds: number; converged: boolean } }>>();
  const driftPlan = (id: string) => {
    if (!results.has(id)) {
      results.set(
        id,
        (async () => {
          const { workdir, plan } = sharedOfflinePlans().plans[id];
          const stack = JSON.parse(readFileSync(path.join(workdir, "cdk.tf.json"), "utf8"));
          const { state, ...baseline } = await convergeState(terraform, workdir, stateFromPlan(plan, await resourceSchemas(terraform, workdir), stack));
          const drifted = applyRoutineDrift(state);
          return { drifted, baseline, plan: await planAgainstState(terraform, workdir, state, "routine-drift") };
        })(),
      );
    }
    return results.get(id)!;
  };

  it.each(AWS_STACKS)("%s", async (id) => {
    // Started together, so the stacks plan side by side.
    for (const other of AWS_STACKS) void driftPlan(other).catch(() => undefined);
    const { drifted, plan, baseline } = await driftPlan(id);
    // The prior state agrees with the configuration wherever it decides a replacement.
    expect(baseline.converged).toBe(true);
    expect(drifted.length).toBeGreaterThan(0);
    // The platform's node groups were resized by hand or an autoscaler; each data stack's database grew its storage.
    const expected = id === "aws-platform" ? "aws_eks_node_group." : "aws_db_instance.";
    expect(drifted.some((d) => d.startsWith(expected))).toBe(true);
    const destructive = plan.resource_changes
      .filter((c: any) => c.mode === "managed" && c.change.actions.includes("delete"))
      .map((c: any) => `${c.address}: ${c.change.actions.join("+")} (${JSON.stringify(c.change.replace_paths ?? [])})`);
    expect(destructive).toEqual([]);
  }, 900_000);
});
