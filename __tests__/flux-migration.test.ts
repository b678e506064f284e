import { readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { FLUX } from "../constructs/addons/flux";
import { guardPlan, protectedChanges } from "../tools/destroy-guard";
import { FLUX_RELEASE_ADDRESSES } from "../tools/flux-guard";
import { manifestsOf, synthesizeAddons, type AddonsSynth } from "./addons-fixtures";
import type { TerraformJson } from "./support/synth";

/**
 * The move from the community flux2 chart to the Flux Operator, on a
 * platform that has the community release in its state.
 *
 * No Terraform plan shows it: the offline provider mirror holds only
 * hashicorp/aws, and the add-ons stacks use the helm and kubernetes
 * providers, whose plans read the release from a live cluster. So the plan
 * is derived the way Terraform and the helm provider make it (facts in
 * __tests__/upstream/flux2-community.json): a resource at the same address
 * with the same name and namespace is updated in place (`helm upgrade`),
 * anything new is created. What the tests check on it is what decides
 * whether a Flux object survives: the release keeps its address, the
 * upgrade leaves the CRDs behind because they carry Helm's keep annotation,
 * the operator takes them over before anything can delete them, and the
 * destroy guard passes this plan and fails the same plan without the keep.
 */
const community = JSON.parse(readFileSync(path.join(__dirname, "upstream", "flux2-community.json"), "utf8"));
const previous = community.previousRelease;

/** The managed resources of a synthesized stack, by address. */
function resources(stack: TerraformJson): Map<string, { type: string; name: string; config: any }> {
  const out = new Map<string, { type: string; name: string; config: any }>();
  for (const [type, byName] of Object.entries<any>(stack.resource ?? {})) {
    for (const [name, config] of Object.entries<any>(byName)) out.set(`${type}.${name}`, { type, name, config });
  }
  return out;
}

/** The helm_release attributes the guard reads, as the state and the plan hold them. */
const releaseState = (config: any) => ({ name: config.name, namespace: config.namespace, chart: config.chart, repository: config.repository, version: config.version, values: config.values });

/**
 * The plan of the new program against a state that holds the community
 * release: updates where the address is known (a replacement if a field the
 * provider replaces on differs), creates elsewhere.
 */
function migrationPlan(stack: TerraformJson, priorState: Map<string, any>): any {
  const resource_changes = [...resources(stack)].map(([address, { type, name, config }]) => {
    const before = priorState.get(address);
    if (!before) return { address, mode: "managed", type, name, change: { actions: ["create"], before: null, after: releaseState(config) } };
    const replaced = community.provider.replacedBy.some((field: string) => before[field] !== config[field]);
    return { address, mode: "managed", type, name, change: { actions: replaced ? ["delete", "create"] : ["update"], before, after: releaseState(config) } };
  });
  return { resource_changes };
}

const priorState = (values: string) =>
  new Map([[previous.address, { name: previous.name, namespace: previous.namespace, chart: previous.chart, repository: previous.repository, version: previous.version, values: [values] }]]);

const withoutKeep = (values: string) => {
  const parsed = parse(values);
  delete parsed.crds;
  return stringify(parsed);
};

describe("from the community flux2 release to the Flux Operator", () => {
  let synth: AddonsSynth;
  beforeAll(() => (synth = synthesizeAddons()));

  it.each(["aws", "azure"] as const)("%s: the Flux release keeps its address, name and namespace, so Terraform upgrades it in place", (cloud) => {
    const current = resources(synth[cloud]).get(previous.address);
    expect(current?.config).toMatchObject({ name: previous.name, namespace: previous.namespace, chart: "flux-operator" });
    expect(current?.config["//"].metadata.path).toBe(`${cloud}-addons/${previous.constructPath}`);
    const plan = migrationPlan(synth[cloud], priorState(previous.values));
    const change = plan.resource_changes.find((c: any) => c.address === previous.address);
    expect(change.change.actions).toEqual(["update"]);
    expect(plan.resource_changes.filter((c: any) => c.change.actions.includes("delete"))).toEqual([]);
  });

  it("the community release kept its CRDs: they are templates, and the platform annotated them keep", () => {
    expect(community.chart).toMatchObject({ crdsAreTemplates: true, crdAnnotationsValue: "crds.annotations" });
    expect(parse(previous.values).crds.annotations).toEqual({ [community.helm.keepAnnotation]: community.helm.keepValue });
    expect(parse(previous.values).installCRDs).toBe(true);
  });

  it.each(["aws", "azure"] as const)("%s: the destroy guard passes the migration: no Flux CRD, and so no Flux object, is deleted", (cloud) => {
    const plan = migrationPlan(synth[cloud], priorState(previous.values));
    expect(guardPlan(`${cloud}-addons`, plan)).toEqual({ ok: true, changes: [], message: `${cloud}-addons: no protected resource is deleted or replaced` });
  });

  it("the destroy guard fails the same migration from a release whose CRDs are not annotated keep, naming it and why", () => {
    const plan = migrationPlan(synth.aws, priorState(withoutKeep(previous.values)));
    const result = guardPlan("aws-addons", plan);
    expect(result.ok).toBe(false);
    expect(result.changes).toEqual([expect.objectContaining({ address: previous.address, action: "update" })]);
    expect(result.message).toContain(
      `  - ${previous.address} would be updated: the community flux2 chart's release, whose CRDs are templates without helm.sh/resource-policy: keep: this upgrade no longer renders them, so Helm deletes the Flux CRDs, and with them every GitRepository, Kustomization, HelmRelease and image policy of every environment`,
    );
  });

  it("the operator takes over what the community release leaves: the Helm field manager and release annotations go", () => {
    const takeover = JSON.parse(readFileSync(path.join(__dirname, "upstream", "flux-operator.json"), "utf8")).operator.takeover;
    expect(takeover.fieldManagers).toContain("helm");
    expect(takeover.removedAnnotations).toEqual(["meta.helm.sh/release-name", "meta.helm.sh/release-namespace"]);
  });

  it.each(["aws", "azure"] as const)("%s: the FluxInstance applies after the upgrade, and its release waits until Flux is Ready", (cloud) => {
    const byName = new Map([...resources(synth[cloud])].filter(([, r]) => r.type === "helm_release").map(([address, r]) => [r.config.name, { address, ...r.config }]));
    const instance = byName.get("flux-instance")!;
    expect(instance.depends_on).toEqual([previous.address]);
    const hook = manifestsOf(synth[cloud]).find((m) => m.kind === "Job" && m.metadata.namespace === FLUX.namespace);
    expect(hook.metadata.annotations["helm.sh/hook"]).toBe("post-install,post-upgrade");
    // What else of the old stack touched Flux stays where it was.
    expect(byName.get("flux-monitoring")!.address).toBe("helm_release.flux_monitoring_release_AB9D8980");
  });
});

describe("the destroy guard on Flux's releases after the move", () => {
  let synth: AddonsSynth;
  let releases: Map<string, { address: string; config: any }>;
  beforeAll(() => {
    synth = synthesizeAddons();
    releases = new Map([...resources(synth.aws)].filter(([, r]) => r.type === "helm_release").map(([address, r]) => [r.config.name, { address, config: r.config }]));
  });

  const planOf = (name: string, actions: string[], before: any, after: any = null) => {
    const { address } = releases.get(name)!;
    return { resource_changes: [{ address, mode: "managed", type: "helm_release", name: address.split(".")[1], change: { actions, before, after } }] };
  };

  it("knows Flux's releases by the addresses the program gives them", () => {
    const matched = [...releases.values()].filter(({ address }) => FLUX_RELEASE_ADDRESSES.some((pattern) => pattern.test(address)));
    expect(matched.map(({ config }) => config.name).sort()).toEqual(["flux", "flux-instance"]);
  });

  it("passes deleting the FluxInstance, whose CRDs the operator keeps, and deleting the operator, whose chart keeps its own", () => {
    for (const name of ["flux-instance", "flux"]) {
      expect(protectedChanges(planOf(name, ["delete"], releaseState(releases.get(name)!.config))), name).toEqual([]);
    }
  });

  it("fails deleting a FluxInstance that does not keep the CRDs, and dropping a controller from it", () => {
    const config = releases.get("flux-instance")!.config;
    const values = parse(config.values[0]);
    const instance = values.manifests.find((m: any) => m.kind === "FluxInstance");
    instance.spec.kustomize.patches = instance.spec.kustomize.patches.filter((p: any) => p.target.kind !== "CustomResourceDefinition");
    const unkept = { ...releaseState(config), values: [stringify(values)] };
    expect(protectedChanges(planOf("flux-instance", ["delete"], unkept))).toEqual([
      expect.objectContaining({ action: "delete", reason: expect.stringMatching(/^the FluxInstance, whose patches do not annotate the CRDs fluxcd.controlplane.io\/prune: disabled: deleting it makes the Flux Operator uninstall Flux/) }),
    ]);
    const fewer = structuredClone(values);
    fewer.manifests.find((m: any) => m.kind === "FluxInstance").spec.components = ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"];
    const dropping = planOf("flux-instance", ["update"], unkept, { ...releaseState(config), values: [stringify(fewer)] });
    expect(protectedChanges(dropping)).toEqual([
      expect.objectContaining({ action: "update", reason: expect.stringContaining("it drops image-reflector-controller, image-automation-controller, so the Flux Operator prunes their CRDs") }),
    ]);
    // The same update from the instance that keeps its CRDs prunes no CRD.
    expect(protectedChanges(planOf("flux-instance", ["update"], releaseState(config), { ...releaseState(config), values: [stringify(fewer)] }))).toEqual([]);
  });

  it("fails deleting or replacing a Flux release in the workflows' plan artifact, which holds no values to tell", () => {
    for (const name of ["flux", "flux-instance"]) {
      for (const actions of [["delete"], ["delete", "create"]]) {
        const [change] = protectedChanges(planOf(name, actions, undefined));
        expect(change, `${name} ${actions}`).toMatchObject({ address: releases.get(name)!.address, reason: expect.stringContaining("the plan holds no values to tell whether the Flux CRDs outlive it") });
      }
      // An update in place deletes nothing the guard can see without values.
      expect(protectedChanges(planOf(name, ["update"], undefined))).toEqual([]);
    }
    // Other releases are ordinary changes.
    expect(protectedChanges(planOf("flux-monitoring", ["delete"], undefined))).toEqual([]);
  });

  it("fails uninstalling a community release without the keep annotation, and passes it with the annotation", () => {
    const before = (values: string) => ({ ...priorState(values).get(previous.address), chart: "flux2" });
    expect(protectedChanges(planOf("flux", ["delete"], before(previous.values)))).toEqual([]);
    expect(protectedChanges(planOf("flux", ["delete"], before(withoutKeep(previous.values))))).toEqual([
      expect.objectContaining({ action: "delete", reason: expect.stringContaining("uninstalling it deletes the Flux CRDs") }),
    ]);
  });
});
