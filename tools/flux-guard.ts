import { parse } from "yaml";
import { mergeValues, type Values } from "../constructs/addons/values";

/**
 * Which changes to a Helm release delete the Flux CRDs, and with them every
 * GitRepository, Kustomization, HelmRelease and image policy of every
 * environment: the CRDs' deletion cascades to every object of their kinds.
 *
 * - The community flux2 chart renders its CRDs as templates: uninstalling the
 *   release deletes them, and so does an upgrade that no longer renders them,
 *   unless they carry `helm.sh/resource-policy: keep` (its `crds.annotations`).
 * - With the Flux Operator, deleting the FluxInstance makes the operator
 *   uninstall everything it applied, CRDs included, and an instance that drops
 *   a controller prunes that controller's CRDs, unless the CRDs carry
 *   `fluxcd.controlplane.io/prune: disabled` (a patch of the instance).
 *
 * A plan with values (`terraform show -json`) is judged on them. The plan
 * artifact the workflows keep holds only actions: there, deleting or
 * replacing one of Flux's releases counts, since nothing tells it is safe.
 */

/** Flux's releases in an add-ons stack, by the address cdktf gives their construct paths (`flux/release`, `flux/instance/release`). */
export const FLUX_RELEASE_ADDRESSES = [/^helm_release\.flux_release_[0-9A-F]{8}$/, /^helm_release\.flux_instance_release_[0-9A-F]{8}$/];

const KEEP = { "helm.sh/resource-policy": "keep" };
const OPERATOR_KEEP = { "fluxcd.controlplane.io/prune": "disabled" };
const LOSS = "and with them every GitRepository, Kustomization, HelmRelease and image policy of every environment";

export interface FluxLoss {
  readonly action: "delete" | "replace" | "update";
  readonly reason: string;
}

interface ReleaseState {
  readonly chart?: string;
  readonly values?: readonly string[];
}

/** A release's values as Helm merges its `values` list, later documents winning. */
function releaseValues(release: ReleaseState | null | undefined): Values | undefined {
  if (!release || !Array.isArray(release.values)) return undefined;
  try {
    return mergeValues(...release.values.map((text) => (parse(text) as Values | null) ?? {}));
  } catch {
    return undefined;
  }
}

const annotated = (annotations: unknown, wanted: Record<string, string>): boolean =>
  typeof annotations === "object" && annotations !== null && Object.entries(wanted).every(([key, value]) => (annotations as Record<string, unknown>)[key] === value);

/** Whether the community chart renders the Flux CRDs with these values (its default: yes). */
const communityInstallsCrds = (values: Values): boolean => values.installCRDs !== false;

const communityKeepsCrds = (values: Values): boolean => annotated((values.crds as Values | undefined)?.annotations, KEEP);

/** The FluxInstance a release of the program's manifests chart applies. */
function fluxInstanceIn(values: Values): any | undefined {
  const manifests = values.manifests;
  return Array.isArray(manifests) ? manifests.find((m: any) => m?.kind === "FluxInstance" && String(m.apiVersion).startsWith("fluxcd.controlplane.io/")) : undefined;
}

/** Whether a FluxInstance patches every CRD it applies with the operator's prune exclusion. */
export function instanceKeepsCrds(instance: any): boolean {
  const patches: any[] = instance?.spec?.kustomize?.patches ?? [];
  return patches.some((entry) => {
    if (entry?.target?.kind !== "CustomResourceDefinition" || entry.target.name !== undefined) return false;
    try {
      const body = parse(String(entry.patch));
      return !Array.isArray(body) && annotated(body?.metadata?.annotations, OPERATOR_KEEP);
    } catch {
      return false;
    }
  });
}

function actionOf(actions: readonly string[]): FluxLoss["action"] | undefined {
  if (actions.includes("delete")) return actions.includes("create") ? "replace" : "delete";
  return actions.includes("update") ? "update" : undefined;
}

/** Whether a release change deletes the Flux CRDs, and why; undefined when it does not, or cannot. */
export function fluxCrdLoss(change: { readonly address: string; readonly type: string; readonly change: { readonly actions: readonly string[]; readonly before?: unknown; readonly after?: unknown } }): FluxLoss | undefined {
  if (change.type !== "helm_release") return undefined;
  const action = actionOf(change.change.actions);
  if (!action) return undefined;
  const before = change.change.before as ReleaseState | null | undefined;
  const values = releaseValues(before);
  if (!values) {
    if (action === "update" || !FLUX_RELEASE_ADDRESSES.some((pattern) => pattern.test(change.address))) return undefined;
    return { action, reason: `Flux's release, and the plan holds no values to tell whether the Flux CRDs outlive it: if they do not, ${action === "delete" ? "deleting" : "replacing"} it deletes them, ${LOSS}` };
  }
  const after = change.change.after as ReleaseState | null | undefined;
  const next = action === "update" ? releaseValues(after) : undefined;
  if (before!.chart === "flux2") {
    if (!communityInstallsCrds(values) || communityKeepsCrds(values)) return undefined;
    if (action !== "update") return { action, reason: `the community flux2 chart's release, whose CRDs are templates without helm.sh/resource-policy: keep: uninstalling it deletes the Flux CRDs, ${LOSS}` };
    if (!next || (after!.chart === "flux2" && communityInstallsCrds(next))) return undefined;
    return { action, reason: `the community flux2 chart's release, whose CRDs are templates without helm.sh/resource-policy: keep: this upgrade no longer renders them, so Helm deletes the Flux CRDs, ${LOSS}` };
  }
  const instance = fluxInstanceIn(values);
  if (!instance || instanceKeepsCrds(instance)) return undefined;
  const why = "the FluxInstance, whose patches do not annotate the CRDs fluxcd.controlplane.io/prune: disabled";
  if (action !== "update") return { action, reason: `${why}: deleting it makes the Flux Operator uninstall Flux and delete the Flux CRDs, ${LOSS}` };
  if (!next) return undefined;
  const nextInstance = fluxInstanceIn(next);
  if (!nextInstance) return { action, reason: `${why}: this upgrade takes it out of the release, so Helm deletes it and the Flux Operator deletes the Flux CRDs, ${LOSS}` };
  const kept = new Set<string>(nextInstance.spec?.components ?? []);
  const dropped = ((instance.spec?.components ?? []) as string[]).filter((component) => !kept.has(component));
  if (dropped.length === 0) return undefined;
  return { action, reason: `${why}: it drops ${dropped.join(", ")}, so the Flux Operator prunes their CRDs and every object of their kinds` };
}
