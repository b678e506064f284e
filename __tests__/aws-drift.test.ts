import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { skipNote } from "./support/environment";
import { applyRoutineDrift, offlineTerraform, planRoutineDrift, resourceSchemas, stateFromPlan } from "./support/offline-terraform";
import { sharedOfflinePlans } from "./support/offline-plans";

const terraform = offlineTerraform();
const AWS_STACKS = ["aws-platform", "aws-develop-data", "aws-staging-data", "aws-production-data"];

/**
 * The real AWS provider, offline, against a prior state that represents each
 * stack as planned plus routine drift: a later apply may update in place,
 * never replace or delete.
 */
describe.skipIf(!terraform.available)(`routine drift replaces and deletes nothing${skipNote(terraform)}`, () => {
  const priorState = async (id: string) => {
    const { workdir, plan } = sharedOfflinePlans().plans[id];
    const stack = JSON.parse(readFileSync(path.join(workdir, "cdk.tf.json"), "utf8"));
    return { workdir, state: stateFromPlan(plan, await resourceSchemas(terraform, workdir), stack) };
  };
  const results = new Map<string, ReturnType<typeof planRoutineDrift>>();
  const driftPlan = (id: string) => {
    if (!results.has(id)) {
      results.set(
        id,
        priorState(id).then(({ workdir, state }) => planRoutineDrift(terraform, workdir, state, applyRoutineDrift)),
      );
    }
    return results.get(id)!;
  };
  /** Every replacement and deletion, with what forces it. */
  const destructiveChanges = ({ changes, plan }: Awaited<ReturnType<typeof planRoutineDrift>>): string[] => {
    const destructive = changes.filter((c) => c.action === "delete" || c.action === "replace").map((c) => c.address);
    if (destructive.length > 0) expect(plan).not.toBeNull();
    return destructive.map((address) => {
      const change = plan.resource_changes.find((c: any) => c.address === address);
      return `${address}: ${change.change.actions.join("+")} (${JSON.stringify(change.change.replace_paths ?? [])})`;
    });
  };

  it.each(AWS_STACKS)("%s", async (id) => {
    // Started together, so the stacks plan side by side.
    for (const other of AWS_STACKS) void driftPlan(other).catch(() => undefined);
    const result = await driftPlan(id);
    const { drifted, changes } = result;
    expect(drifted.length).toBeGreaterThan(0);
    // The platform's node groups were resized by hand or an autoscaler; each data stack's database grew its storage.
    const expected = id === "aws-platform" ? "aws_eks_node_group." : "aws_db_instance.";
    expect(drifted.some((d) => d.startsWith(expected))).toBe(true);
    // The plan saw the drift: it takes the hand-made tag off every resource again, in place.
    const tagged = drifted.filter((d) => d.endsWith(".tags")).map((d) => d.slice(0, -".tags".length));
    expect(tagged.length).toBeGreaterThan(0);
    const updated = new Set(changes.filter((c) => c.action === "update").map((c) => c.address));
    expect(tagged.filter((address) => !updated.has(address))).toEqual([]);
    expect(destructiveChanges(result)).toEqual([]);
    // The prior state's stand-ins agree with the configuration (names built from an ARN's account
    // field included), so the first plan is the only one: no convergence round was needed.
    expect(result.plan).toBeNull();
  }, 900_000);

  it.each(["aws-platform", "aws-develop-data"])("%s: resources whose ids came from list positions move to ids from their items, replaced by nothing", async (id) => {
    const { workdir, state } = await priorState(id);
    const moves: { from: string; to: string }[] = JSON.parse(readFileSync(path.join(workdir, "cdk.tf.json"), "utf8")).moved ?? [];
    expect(moves.length).toBeGreaterThan(0);
    // A state written before: each of these resources at its positional address.
    const atOldAddresses = (drifted: any) =>
      moves.map(({ from, to }) => {
        const [type, name] = to.split(".");
        drifted.resources.find((r: any) => r.type === type && r.name === name).name = from.split(".")[1];
        return from;
      });
    const result = await planRoutineDrift(terraform, workdir, state, atOldAddresses);
    expect(destructiveChanges(result)).toEqual([]);
    const planned = new Map(result.changes.map((change) => [change.address, change.action]));
    for (const { to } of moves) expect({ to, action: planned.get(to) }).toEqual({ to, action: "move" });
    expect(result.changes.filter((change) => change.action === "create")).toEqual([]);
  }, 900_000);

  it("reports a drift that does force a replacement, however many rounds it plans", async () => {
    const { workdir, state } = await priorState("aws-develop-data");
    // A database restored by hand under another key: the provider replaces it to get the configured key back.
    const rekeyed = (drifted: any) => [
      ...applyRoutineDrift(drifted),
      ...drifted.resources
        .filter((r: any) => r.type === "aws_db_instance")
        .map((r: any) => {
          r.instances[0].attributes.kms_key_id = "arn:aws:kms:eu-west-1:000000000000:key/restored-by-hand";
          return `aws_db_instance.${r.name}.kms_key_id`;
        }),
    ];
    const result = await planRoutineDrift(terraform, workdir, state, rekeyed);
    expect(destructiveChanges(result)).toEqual(expect.arrayContaining([expect.stringMatching(/^aws_db_instance\.\S+: delete\+create \(\[\["kms_key_id"\]\]\)$/)]));
  }, 900_000);
});
