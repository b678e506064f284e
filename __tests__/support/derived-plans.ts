import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { offlineEnvironment, type OfflinePlanResult, type OfflineTerraform } from "./offline-terraform";
import type { TerraformJson } from "./synth";

/**
 * Offline plans start from empty state, so they only ever create. Replacements,
 * updates and deletions are derived from a real plan by changing the actions
 * of chosen resources the way Terraform writes them, keeping every other field
 * of the real plan as the provider produced it.
 */
export function deriveActions(plan: any, changes: Record<string, "replace" | "delete" | "update">): any {
  const derived = structuredClone(plan);
  const pending = new Set(Object.keys(changes));
  for (const change of derived.resource_changes) {
    const kind = changes[change.address];
    if (!kind) continue;
    pending.delete(change.address);
    if (kind === "replace") {
      change.change.actions = ["delete", "create"];
      change.action_reason = "replace_because_cannot_update";
    } else if (kind === "delete") {
      change.change.actions = ["delete"];
      change.change.before = change.change.after;
      change.change.after = null;
    } else {
      change.change.actions = ["update"];
      change.change.before = change.change.after;
    }
  }
  if (pending.size > 0) throw new Error(`no such resource in the plan: ${[...pending].join(", ")}`);
  return derived;
}

/** The only managed resource of a type in a plan. */
export function addressOf(plan: any, type: string): string {
  const matches = plan.resource_changes.filter((c: any) => c.mode === "managed" && c.type === type);
  if (matches.length !== 1) throw new Error(`expected one ${type} in the plan, found ${matches.length}`);
  return matches[0].address;
}

/**
 * A plan in the shape of `terraform show -json` that applies one action to
 * every managed resource of a synthesized stack, for stacks whose provider is
 * not in the offline mirror: the addresses and types are the program's own.
 */
export function planOfStack(stack: TerraformJson, action: "delete" | "replace"): any {
  const actions = action === "replace" ? ["delete", "create"] : ["delete"];
  return {
    resource_changes: Object.entries(stack.resource ?? {}).flatMap(([type, resources]) =>
      Object.keys(resources).map((name) => ({ address: `${type}.${name}`, mode: "managed", type, name, change: { actions: [...actions] } })),
    ),
  };
}

/** Terraform's own human-readable rendering of an offline plan (`terraform show -no-color`). */
export function planText(env: OfflineTerraform, result: OfflinePlanResult): string {
  return execFileSync(env.terraform!, ["show", "-no-color", "offline.plan"], {
    cwd: result.workdir,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    env: offlineEnvironment(path.join(result.workdir, "offline.tfrc")),
  });
}
