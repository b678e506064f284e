import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../config";
import { applicationServiceAccount, IN_CLUSTER } from "../constructs/contract";
import { ENVIRONMENT_DEPLOYER_ROLE, ENVIRONMENT_NAMESPACES_ROLE, REVIEW_ROLE } from "../constructs/kubernetes/ci-access";
import { resourcesOf, synthesize, type Synthesized, type TerraformJson } from "./support/synth";

const config = loadConfig();

/**
 * What Checkov cannot see: it has no checks for `helm_release` values or for
 * the objects of the local manifests chart, and the pods of the add-ons are
 * rendered by Helm at apply time. The guarantees are asserted here, on every
 * in-cluster stack of both clouds (docs/security.md).
 */

const CLOUDS = ["aws", "azure"] as const;
const ENVIRONMENTS = ["develop", "staging", "production"] as const;

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: any;
}

/** The values documents of every Helm release of a stack, by release logical id. */
function releaseValues(stack: TerraformJson): Record<string, any[]> {
  return Object.fromEntries(
    Object.entries(resourcesOf(stack, "helm_release")).map(([id, release]) => [id, (release.values ?? []).map((text: string) => parse(text))]),
  );
}

/** The objects every local manifests chart of a stack installs. */
function chartManifests(stack: TerraformJson): Manifest[] {
  return Object.values(releaseValues(stack)).flatMap((documents) => documents.flatMap((values) => (values?.manifests ?? []) as Manifest[]));
}

/** Every container `resources` block anywhere in a values tree (a volume claim's storage request is not one). */
function resourceBlocks(values: unknown, path = ""): { path: string; resources: any }[] {
  if (Array.isArray(values)) return values.flatMap((item, i) => resourceBlocks(item, `${path}[${i}]`));
  if (values === null || typeof values !== "object") return [];
  return Object.entries(values).flatMap(([key, value]) => {
    const here = path ? `${path}.${key}` : key;
    const isContainerResources =
      key === "resources" && value !== null && typeof value === "object" && ("requests" in value || "limits" in value) && !(value as any).requests?.storage;
    return isContainerResources ? [{ path: here, resources: value }] : resourceBlocks(value, here);
  });
}

describe("in-cluster objects the program writes", () => {
  let synth: Synthesized;
  const stacks: Record<string, TerraformJson> = {};

  beforeAll(() => {
    synth = synthesize();
    for (const cloud of CLOUDS) {
      stacks[`${cloud}-addons`] = synth.stack(`${cloud}-addons`);
      for (const env of ENVIRONMENTS) stacks[`${cloud}-${env}`] = synth.stack(`${cloud}-${env}`);
    }
  });
  afterAll(() => synth.cleanup());

  it("binds roles cluster-wide only for the CI identities (environment namespaces, and reading for the review), and nothing to cluster-admin", () => {
    for (const [id, stack] of Object.entries(stacks)) {
      const types = Object.keys(stack.resource ?? {}).filter((type) => type.startsWith("kubernetes_cluster_role"));
      if (id.endsWith("-addons")) {
        const roles = Object.values(resourcesOf(stack, "kubernetes_cluster_role_v1")).map((role) => role.metadata.name).sort();
        expect(roles, id).toEqual([ENVIRONMENT_DEPLOYER_ROLE, ENVIRONMENT_NAMESPACES_ROLE, REVIEW_ROLE].sort());
        const bound = Object.values(resourcesOf(stack, "kubernetes_cluster_role_binding_v1")).map((binding) => binding.role_ref.name).sort();
        // The deployer role is bound in the non-production namespaces only, never cluster-wide.
        expect(bound, id).toEqual([ENVIRONMENT_NAMESPACES_ROLE, REVIEW_ROLE].sort());
      } else {
        expect(types, id).toEqual([]);
      }
      const manifests = chartManifests(stack);
      expect(manifests.filter((manifest) => /^ClusterRole(Binding)?$/.test(manifest.kind)).map((m) => m.metadata.name), id).toEqual([]);
      // A namespaced Role only reads: the Flux ready check's, one FluxInstance.
      for (const role of manifests.filter((manifest) => manifest.kind === "Role") as any[]) {
        expect(role.rules.flatMap((rule: any) => rule.verbs), `${id} ${role.metadata.name}`).toEqual(["get"]);
      }
      for (const binding of manifests.filter((manifest) => manifest.kind === "RoleBinding") as any[]) {
        expect(binding.roleRef.kind, `${id} ${binding.metadata.name}`).toBe("Role");
      }
      for (const binding of Object.values(resourcesOf(stack, "kubernetes_role_binding_v1"))) {
        expect(binding.role_ref.name, id).not.toBe("cluster-admin");
      }
    }
  });

  it.each(CLOUDS.flatMap((cloud) => ENVIRONMENTS.map((env) => [cloud, env])))(
    "%s-%s: the role bindings are the reconciler's, to admin in its own namespace (the documented GitOps design), and outside production the deploy identity's, in its own namespace",
    (cloud, env) => {
      const bindings = Object.values(resourcesOf(stacks[`${cloud}-${env}`], "kubernetes_role_binding_v1"));
      expect(bindings).toHaveLength(env === "production" ? 1 : 2);
      expect(bindings[0]).toMatchObject({
        metadata: { name: "gitops-reconciler", namespace: env },
        role_ref: { kind: "ClusterRole", name: "admin" },
        subject: [{ kind: "ServiceAccount", name: "gitops-reconciler", namespace: env }],
      });
      if (env !== "production") {
        expect(bindings[1]).toMatchObject({
          metadata: { name: "platform-ci-deployer", namespace: env },
          role_ref: { kind: "ClusterRole", name: ENVIRONMENT_DEPLOYER_ROLE },
          subject: [{ kind: cloud === "aws" ? "Group" : "User" }],
        });
      }
    },
  );

  it.each(CLOUDS.flatMap((cloud) => ENVIRONMENTS.map((env) => [cloud, env])))(
    "%s-%s: Flux applies as the reconciler, never as `default`, and the program's service accounts mount no token they do not need",
    (cloud, env) => {
      const stack = stacks[`${cloud}-${env}`];
      const accounts = Object.values(resourcesOf(stack, "kubernetes_service_account_v1"));
      const names = accounts.map((account) => account.metadata.name).sort();
      // The environment's, one per application, and the reconciler's.
      const applications = config.applications.map((application) => applicationServiceAccount(application.name));
      expect(names).toEqual([IN_CLUSTER.applicationServiceAccount, ...applications, "gitops-reconciler"].sort());
      expect(names).not.toContain("default");
      for (const account of accounts) expect(account.automount_service_account_token, account.metadata.name).toBe(false);

      const kustomizations = chartManifests(stack).filter((manifest) => manifest.kind === "Kustomization");
      expect(kustomizations).toHaveLength(1);
      expect(kustomizations[0].spec.serviceAccountName).toBe("gitops-reconciler");
    },
  );

  it.each(CLOUDS.flatMap((cloud) => ENVIRONMENTS.map((env) => [cloud, env])))("%s-%s: denies all traffic by default", (cloud, env) => {
    const policies = Object.values(resourcesOf(stacks[`${cloud}-${env}`], "kubernetes_network_policy_v1"));
    const deny = policies.find((policy) => policy.metadata.name === "default-deny");
    expect(deny).toMatchObject({ metadata: { namespace: env }, spec: { pod_selector: {}, policy_types: ["Ingress", "Egress"] } });
    expect(deny.spec.ingress).toBeUndefined();
    expect(deny.spec.egress).toBeUndefined();
  });

  it.each(CLOUDS)("%s-addons: every container resources block of the platform's own releases sets a memory limit", (cloud) => {
    const values = releaseValues(stacks[`${cloud}-addons`]);
    // CRD-only charts (karpenter-crd) run no pod.
    const upstream = Object.entries(resourcesOf(stacks[`${cloud}-addons`], "helm_release")).filter(
      ([, release]) => !release.chart.startsWith("./") && !release.chart.endsWith("-crd"),
    );
    expect(upstream.length).toBeGreaterThanOrEqual(4);
    for (const [id] of upstream) {
      const blocks = resourceBlocks(values[id]);
      // A release that sets no resources at all would pass the loop below vacuously.
      expect(blocks.length, `${id} sets no container resources`).toBeGreaterThan(0);
      for (const { path, resources } of blocks) {
        expect(resources.limits?.memory, `${id} ${path}`).toBeDefined();
      }
    }
  });
});
