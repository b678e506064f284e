import { readFileSync } from "node:fs";
import { inject } from "vitest";
import type { OfflinePlanResult } from "./offline-terraform";

/**
 * The offline plans the global setup made of the default program
 * (`offline-plans.setup.ts`), by stack id. Fails when the setup could not plan:
 * call it only where `offlineTerraform().available` holds.
 */
export function sharedOfflinePlans(): { readonly outdir: string; readonly plans: Record<string, OfflinePlanResult> } {
  const shared = inject("offlinePlans");
  if (!shared) throw new Error("the global setup made no offline plans; is TF_PROVIDER_MIRROR set?");
  const plans = Object.fromEntries(
    Object.entries(shared.stacks).map(([id, stack]) => [
      id,
      { workdir: stack.workdir, diagnostics: stack.diagnostics as OfflinePlanResult["diagnostics"], plan: JSON.parse(readFileSync(stack.planFile, "utf8")), seconds: stack.seconds },
    ]),
  );
  return { outdir: shared.outdir, plans };
}
