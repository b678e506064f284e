import { readFileSync, rmSync } from "node:fs";
import * as path from "node:path";
import { App } from "cdktf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, validateConfig, type PlatformConfig } from "../config";
import { clusterStackParts } from "../config/clusters";
import type { AddonsStack } from "../stacks/addons-stack";
import { buildPlatform } from "../stacks/app";
import { ENVIRONMENT_NAMESPACES_ROLE, REVIEW_ROLE } from "../constructs/kubernetes/ci-access";
import { clusterTargets } from "../tools/doctor/targets";
import { deployLayers, productionEnvironmentNames, productionStacks } from "../tools/stack-order";
import { programAddresses } from "./support/addresses";
import { problemOf } from "./support/config-problems";
import { sharedServerRaw } from "./support/shared-server";
import { skipNote } from "./support/environment";
import { offlineTerraform, planOffline, remoteStateReferences, type OfflinePlanResult } from "./support/offline-terraform";
import { configWith, resourcesOf, synthesize, type Synthesized, type TerraformJson } from "./support/synth";

/**
 * The default program's stack ids and Terraform addresses as deployed
 * platforms have them in state. A change here moves or replaces resources of
 * every existing deployment: it needs `moved` blocks and a plan that shows no
 * replacement, not a new fixture.
 */
const DEFAULT_ADDRESSES = path.join(__dirname, "fixtures/topology/default-addresses.json");

/** Each further cluster's own ranges, apart from the default config's 10.40/16 (AWS) and 10.50/16 (Azure). */
const ranges = (second: number) => ({
  aws: { network: { vpcCidr: `10.${second}.0.0/16` } },
  azure: { network: { vnetCidr: `10.${second + 10}.0.0/16`, nodesSubnetCidr: `10.${second + 10}.0.0/20`, postgresSubnetCidr: `10.${second + 10}.16.0/24` } },
});

/** `main` runs develop and staging, `prod` production. */
const twoClusters = (raw: any) => {
  raw.clusters = [
    { name: "main", environments: ["develop", "staging"] },
    { name: "prod", environments: ["production"], clouds: ranges(41) },
  ];
};

/** A tools cluster first: it holds the shared zone and registry, and is deployed first. */
const threeClusters = (raw: any) => {
  raw.clusters = [{ name: "tools", role: "tools", clouds: ranges(42) }, { name: "main", environments: ["develop", "staging"] }, { name: "prod", environments: ["production"], clouds: ranges(41) }];
};

const configOf = (change: (raw: any) => void): PlatformConfig => validateConfig(configWith(change));

/** Which platform stacks a stack reads the state of. */
const platformsRead = (stack: TerraformJson): string[] =>
  [...remoteStateReferences(JSON.stringify(stack)).keys()].map((name) => name.replace("cross-stack-reference-input-", "")).filter((id) => id.endsWith("platform")).sort();

describe("the default topology", () => {
  it("keeps every stack id and resource address of a deployed platform, or moves it there with a moved block", () => {
    const expected = JSON.parse(readFileSync(DEFAULT_ADDRESSES, "utf8")) as Record<string, string[]>;
    const program = synthesize();
    const actual = programAddresses(program);
    expect(Object.keys(actual)).toEqual(Object.keys(expected));
    for (const [stack, addresses] of Object.entries(expected)) {
      const moves: { from: string; to: string }[] = (program.stack(stack) as any).moved ?? [];
      // Every move starts at a deployed address, and nothing else changed.
      expect(moves.map((move) => move.from).filter((from) => !addresses.includes(from)), stack).toEqual([]);
      const movedTo = new Map(moves.map((move) => [move.from, move.to]));
      expect(actual[stack], stack).toEqual(addresses.map((address) => movedTo.get(address) ?? address).sort());
    }
  });

  it("is one cluster main running every environment", () => {
    expect(configOf(() => undefined).clusters).toEqual([{ name: "main", role: "workload", environments: ["develop", "staging", "production"], clouds: {} }]);
  });

  it("writes no cluster label: one cluster needs none", () => {
    expect(JSON.stringify(synthesize().stack("aws-addons"))).not.toContain("externalLabels");
  });
});

describe("cluster rules", () => {
  const cases: [string, (raw: any) => void, string, RegExp][] = [
    ["an environment in two clusters", (raw) => (raw.clusters = [{ name: "main", environments: ["develop", "staging", "production"] }, { name: "prod", environments: ["production"], clouds: ranges(41) }]), "clusters[1].environments[0]", /already in cluster 'main'; each environment runs in exactly one cluster/],
    ["an environment in none", (raw) => (raw.clusters = [{ name: "main", environments: ["develop", "staging"] }]), "environments[2].name", /in no cluster; list it in the environments of one of the clusters main/],
    ["an unknown environment", (raw) => (raw.clusters = [{ name: "main", environments: ["develop", "staging", "production", "qa"] }]), "clusters[0].environments[3]", /unknown environment; configured environments are develop, staging, production/],
    ["a workload cluster without environments", (raw) => (raw.clusters = [{ name: "main", environments: ["develop", "staging", "production"] }, { name: "spare", clouds: ranges(41) }]), "clusters[1].environments", /a workload cluster runs at least one environment; list some, or set role: tools/],
    ["two tools clusters", (raw) => {
        threeClusters(raw);
        raw.clusters.push({ name: "tools2", role: "tools", clouds: ranges(43) });
      }, "clusters[3].role", /clusters\[0\] is already the tools cluster/],
    ["a duplicate name", (raw) => (raw.clusters = [{ name: "main", environments: ["develop", "staging"] }, { name: "main", environments: ["production"], clouds: ranges(41) }]), "clusters[1].name", /duplicate cluster name/],
    [
      "overlapping VPCs",
      (raw) => (raw.clusters = [{ name: "main", environments: ["develop", "staging"] }, { name: "prod", environments: ["production"], clouds: { aws: { network: { vpcCidr: "10.40.128.0/17" } }, azure: ranges(41).azure } }]),
      "clusters[1].clouds.aws.network.vpcCidr",
      /10\.40\.128\.0\/17 overlaps cluster 'main' \(10\.40\.0\.0\/16\); clusters of a cloud need ranges apart so they can be peered/,
    ],
    [
      "a production cluster on AKS's Free tier",
      (raw) => {
        twoClusters(raw);
        raw.clusters[1].clouds.azure.cluster = { skuTier: "Free" };
      },
      "clusters[1].clouds.azure.cluster.skuTier",
      /cluster 'prod' serves production \(production\) and needs the uptime SLA: Standard or Premium/,
    ],
    ["a name too long for the Key Vault", (raw) => {
        twoClusters(raw);
        raw.clusters[1].name = "production1";
      }, "clusters[1].name", /makes the Key Vault name 'acme-platform-kv-production1' 28 characters; the limit is 24/],
    ["a stack id taken twice", (raw) => {
        raw.environments.push({ ...structuredClone(raw.environments[0]), name: "staging-addons", stage: "develop" });
        raw.clusters = [{ name: "main", environments: ["develop", "staging", "staging-addons"] }, { name: "staging", environments: ["production"], clouds: ranges(41) }];
      }, "clusters[1].name", /its stack <cloud>-staging-addons collides with the stack of environment 'staging-addons'/],
    ["settings for a cloud not configured", (raw) => {
        twoClusters(raw);
        delete raw.clouds.azure;
      }, "clusters[1].clouds.azure", /sets azure settings, but clouds.azure is not configured/],
    [
      "a cluster's own subnet outside its VNet",
      (raw) => {
        twoClusters(raw);
        raw.clusters[1].clouds.azure.network.nodesSubnetCidr = "10.90.0.0/20";
      },
      "clusters[1].clouds.azure.network.nodesSubnetCidr",
      /must lie inside the VNet 10\.51\.0\.0\/16/,
    ],
  ];
  it.each(cases)("refuse %s with one line naming the field", (_, change, at, message) => {
    const problem = problemOf(change);
    expect(problem.path).toBe(at);
    expect(problem.message).toMatch(message);
  });

  it("refuse a shared server whose tenants run in two clusters", () => {
    // develop and staging share a server; staging moves to a cluster of its own.
    const problem = problemOf((raw) => {
      Object.assign(raw, sharedServerRaw());
      raw.clusters = [{ name: "main", environments: ["develop", "production"] }, { name: "stage", environments: ["staging"], clouds: ranges(41) }];
    });
    expect(problem.path).toBe("environments[1].database.server");
    expect(problem.message).toMatch(/its tenants run in cluster 'main', and a server lives in one cluster's network: move 'staging' there/);
  });

  /** Every way to put the three environments into two named clusters: valid exactly when each is in one. */
  it("accept a split exactly when every environment is in one cluster", () => {
    const environments = ["develop", "staging", "production"];
    for (let mask = 0; mask < 3 ** environments.length; mask++) {
      // Per environment: 0 in main, 1 in other, 2 in both.
      const places = environments.map((_, i) => Math.floor(mask / 3 ** i) % 3);
      const main = environments.filter((_, i) => places[i] !== 1);
      const other = environments.filter((_, i) => places[i] !== 0);
      const change = (raw: any) => {
        raw.clusters = [{ name: "main", environments: main }, { name: "other", environments: other, clouds: ranges(41) }];
      };
      const valid = main.length > 0 && other.length > 0 && !places.includes(2);
      let accepted: PlatformConfig | undefined;
      try {
        accepted = configOf(change);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
      }
      expect({ places, accepted: accepted !== undefined }).toEqual({ places, accepted: valid });
      if (accepted) expect(accepted.clusters.flatMap((cluster) => cluster.environments).sort()).toEqual([...environments].sort());
    }
  });
});

describe.each([
  ["two clusters", twoClusters, "aws-platform"],
  ["three clusters with tools", threeClusters, "aws-tools-platform"],
] as const)("%s", (_, change, home) => {
  let synth: Synthesized;
  let config: PlatformConfig;
  beforeAll(() => {
    config = configOf(change);
    synth = synthesize(config);
  });
  const ids = () => Object.keys(synth.manifest.stacks);

  it("add <cloud>-<cluster>-platform and -addons and keep main's and every environment's ids", () => {
    for (const cloud of ["aws", "azure"]) {
      expect(ids()).toEqual(expect.arrayContaining([`${cloud}-platform`, `${cloud}-addons`, `${cloud}-prod-platform`, `${cloud}-prod-addons`, `${cloud}-production`, `${cloud}-production-data`, `${cloud}-develop`]));
    }
  });

  it("have each environment's and data stack read its own cluster's platform and no other", () => {
    for (const cloud of ["aws", "azure"]) {
      for (const cluster of config.clusters) {
        const platform = `${cloud}-${cluster.name === "main" ? "" : `${cluster.name}-`}platform`;
        for (const env of cluster.environments) {
          for (const id of [`${cloud}-${env}`, `${cloud}-${env}-data`]) {
            expect({ id, reads: platformsRead(synth.stack(id)) }).toEqual({ id, reads: [platform] });
          }
        }
      }
    }
  });

  it("keep production's kubeconfig and names out of every non-production stack", () => {
    for (const id of ids().filter((id) => !/prod|bootstrap/.test(id) && id !== home.replace("aws", id.split("-")[0]))) {
      const text = JSON.stringify(synth.stack(id));
      expect({ id, prod: /prod-platform/.test(text) }).toEqual({ id, prod: false });
    }
    // The non-production environments' Kubernetes provider reaches main's cluster.
    const provider = synth.stack("aws-develop").provider!.kubernetes[0];
    expect(provider.host).toContain("cross-stack-reference-input-aws-platform");
  });

  it("give the non-production deploy identity no access to a cluster running only production", () => {
    const prod = JSON.stringify(synth.stack("aws-prod-platform"));
    expect(Object.keys(resourcesOf(synth.stack("aws-prod-platform"), "aws_eks_access_entry")).filter((key) => key.includes("deploy"))).toEqual([]);
    expect(prod).not.toContain("platform-ci-deploy");
    for (const cloud of ["aws", "azure"]) {
      const bindings = Object.values(resourcesOf(synth.stack(`${cloud}-prod-addons`), "kubernetes_cluster_role_binding_v1")).map((binding) => binding.metadata.name);
      expect(bindings).not.toContain(ENVIRONMENT_NAMESPACES_ROLE);
      expect(bindings).toContain(REVIEW_ROLE);
      // main's still lets it create its environments' namespaces.
      expect(Object.keys(resourcesOf(synth.stack(`${cloud}-addons`), "kubernetes_cluster_role_binding_v1")).some((key) => key.includes("environment-namespaces"))).toBe(true);
    }
  });

  it("give every cluster identities of its own", () => {
    const roleNames = (id: string) => Object.values(resourcesOf(synth.stack(id), "aws_iam_role")).map((role) => role.name);
    const identityNames = (id: string) => Object.values(resourcesOf(synth.stack(id), "azurerm_user_assigned_identity")).map((identity) => identity.name);
    for (const [main, prod] of [["aws-platform", "aws-prod-platform"].map(roleNames), ["azure-platform", "azure-prod-platform"].map(identityNames)]) {
      // The in-cluster services' identities exist in both, under names of each cluster.
      for (const service of ["external-dns", "cert-manager", "external-secrets", "loki"]) {
        expect(main.filter((name) => name.includes(service))).toHaveLength(1);
        expect(prod.filter((name) => name.includes(service))).toHaveLength(1);
      }
      expect(main.filter((name) => prod.includes(name))).toEqual([]);
    }
  });

  it("hold the zone and the registry once per cloud, in the first cluster's platform, with pull rights for every cluster", () => {
    for (const [cloud, types] of [
      ["aws", ["aws_route53_zone", "aws_ecr_repository"]],
      ["azure", ["azurerm_dns_zone", "azurerm_container_registry"]],
    ] as const) {
      const platforms = ids().filter((id) => id.startsWith(`${cloud}-`) && id.endsWith("platform"));
      for (const type of types) {
        const holders = platforms.filter((id) => Object.keys(resourcesOf(synth.stack(id), type)).length > 0);
        expect({ type, holders }).toEqual({ type, holders: [home.replace("aws", cloud)] });
      }
    }
    // The prod cluster's nodes may pull from the registry the first cluster holds.
    const pull = Object.values(resourcesOf(synth.stack("azure-prod-platform"), "azurerm_role_assignment")).filter((assignment) => assignment.role_definition_name === "AcrPull");
    expect(pull.length).toBe(2);
    for (const assignment of pull) expect(assignment.scope).toContain(`cross-stack-reference-input-${home.replace("aws", "azure")}`);
  });

  it("keep one deploy-role boundary per account, in the first cluster's platform, on every non-production role of every cluster", () => {
    const holders = ids().filter((id) => id.startsWith("aws-") && Object.keys(resourcesOf(synth.stack(id), "aws_iam_policy")).some((key) => key.startsWith("environment-boundary")));
    expect(holders).toEqual([home]);
    const boundaries = Object.values(resourcesOf(synth.stack("aws-develop-data"), "aws_iam_role")).map((role) => role.permissions_boundary);
    expect(boundaries.length).toBeGreaterThan(0);
    for (const boundary of boundaries) expect(boundary).toContain("cross-stack-reference-input-aws-platform");
  });

  it("give the AKS cluster running production the SLA tier and the others the free one", () => {
    const tier = (id: string) => Object.values(resourcesOf(synth.stack(id), "azurerm_kubernetes_cluster"))[0].sku_tier;
    expect(tier("azure-prod-platform")).toBe("Standard");
    expect(tier("azure-platform")).toBe("Free");
  });

  it("check uptime per cluster, of its own environments, and keep a heartbeat for each", () => {
    const healthChecks = (id: string) => Object.values(resourcesOf(synth.stack(id), "aws_route53_health_check")).map((check) => check.fqdn);
    expect(healthChecks("aws-prod-platform").length).toBeGreaterThan(0);
    expect(healthChecks("aws-platform")).toEqual([]);
    for (const id of ids().filter((id) => id.startsWith("aws-") && id.endsWith("platform"))) {
      expect(Object.keys(resourcesOf(synth.stack(id), "aws_cloudwatch_metric_alarm")).some((key) => key.includes("heartbeat"))).toBe(true);
    }
  });

  it("label each cluster's metrics and alerts with its name", () => {
    for (const cluster of config.clusters) {
      const id = `aws-${cluster.name === "main" ? "" : `${cluster.name}-`}addons`;
      expect(JSON.stringify(synth.stack(id))).toMatch(new RegExp(`externalLabels:\\\\n\\s*cluster: ${cluster.name}\\\\n`));
    }
  });

  it("put every cluster's platform and add-ons behind the production approval, and no non-production environment", () => {
    const production = productionStacks(synth.manifest, productionEnvironmentNames(config), clusterStackParts(config.clusters));
    for (const id of ids().filter((id) => /platform$|addons$/.test(id))) expect({ id, production: production.has(id) }).toEqual({ id, production: true });
    for (const id of ["aws-develop", "aws-staging-data", "azure-develop-data"]) expect({ id, production: production.has(id) }).toEqual({ id, production: false });
    // The deploy workflow's five layers hold every stack.
    expect(() => deployLayers(synth.manifest, productionEnvironmentNames(config), 5, clusterStackParts(config.clusters))).not.toThrow();
  });
});

describe("the doctor", () => {
  it("examines every cluster of every cloud, each with its own environments and stacks", () => {
    const targets = clusterTargets(configOf(threeClusters));
    expect(targets.map((target) => [target.stacks.platform, target.stacks.addons, target.environments.map((env) => env.name)])).toEqual([
      ["aws-tools-platform", "aws-tools-addons", []],
      ["aws-platform", "aws-addons", ["develop", "staging"]],
      ["aws-prod-platform", "aws-prod-addons", ["production"]],
      ["azure-tools-platform", "azure-tools-addons", []],
      ["azure-platform", "azure-addons", ["develop", "staging"]],
      ["azure-prod-platform", "azure-prod-addons", ["production"]],
    ]);
  });
});

describe("the add-ons of a tools cluster", () => {
  it("know their cluster: name, role and environments, for what only a tools cluster runs", () => {
    const app = new App({ outdir: path.join(__dirname, ".unused") });
    buildPlatform(app, configOf(threeClusters));
    const cluster = (id: string) => (app.node.findChild(id) as AddonsStack).cluster;
    expect(cluster("aws-tools-addons")).toEqual({ name: "tools", role: "tools", environments: [] });
    expect(cluster("azure-prod-addons")).toEqual({ name: "prod", role: "workload", environments: ["production"] });
    expect(cluster("aws-addons")).toEqual({ name: "main", role: "workload", environments: ["develop", "staging"] });
  });

  it("azure: the three-cluster topology, as stacks, what they read and what they hold", async () => {
    const synth = synthesize(configOf(threeClusters), { only: "azure" });
    const summary = Object.fromEntries(
      Object.entries(synth.manifest.stacks).map(([id, entry]) => {
        const stack = synth.stack(id);
        const counts = Object.fromEntries(Object.entries(stack.resource ?? {}).map(([type, resources]) => [type, Object.keys(resources).length]));
        return [id, { dependencies: [...entry.dependencies].sort(), reads: [...remoteStateReferences(JSON.stringify(stack)).keys()].sort(), resources: counts }];
      }),
    );
    await expect(JSON.stringify(summary, null, 2)).toMatchFileSnapshot("./__snapshots__/topology-azure-three-clusters.json");
  });
});

/**
 * The shapes the clusters add to the default program's plans: a platform
 * that uses the zone and registry of another, and a production data stack
 * on it. The first cluster's platform is the default program's in shape
 * (aws-platform, planned by the global setup); the other stacks are the
 * default program's with another platform to read.
 */
const terraform = offlineTerraform();
describe.skipIf(!terraform.available)(`three clusters, planned offline against the real AWS provider${skipNote(terraform)}`, () => {
  const plans: Record<string, OfflinePlanResult> = {};
  const planned = ["aws-tools-platform", "aws-prod-platform", "aws-production-data"];
  beforeAll(async () => {
    const synth = synthesize(configOf(threeClusters), { only: "aws" });
    await Promise.all(
      planned.map(async (id) => {
        plans[id] = await planOffline(terraform, path.join(synth.outdir, synth.manifest.stacks[id].workingDirectory));
      }),
    );
  }, 240_000);
  afterAll(() => {
    for (const result of Object.values(plans)) rmSync(result.workdir, { recursive: true, force: true });
  });

  it.each(planned)("%s validates and plans only creations, with no error or warning", (id) => {
    expect(plans[id].diagnostics).toEqual({ error_count: 0, warning_count: 0, diagnostics: [] });
    expect(new Set(plans[id].plan.resource_changes.map((c: any) => c.change.actions.join("+")))).toEqual(new Set(["create"]));
  });

  it("the prod platform plans its own cluster and no zone or registry", () => {
    const types = new Set(plans["aws-prod-platform"].plan.resource_changes.map((c: any) => c.type));
    expect(types).toContain("aws_eks_cluster");
    expect(types).not.toContain("aws_route53_zone");
    expect(types).not.toContain("aws_ecr_repository");
  });

  it("the tools platform holds the private zone in its VPC, and the prod platform peers with that VPC and routes back through its tables", () => {
    const changes = (id: string, type: string) => plans[id].plan.resource_changes.filter((c: any) => c.type === type);
    const zones = changes("aws-tools-platform", "aws_route53_zone").map((c: any) => [c.change.after.name, c.change.after.vpc.length]);
    expect(zones).toEqual(expect.arrayContaining([["internal.apps.example.com", 1]]));
    const toolsTables = changes("aws-tools-platform", "aws_route_table").filter((c: any) => c.address.includes("network_private-"));
    expect(changes("aws-tools-platform", "aws_route").map((c: any) => c.change.after.destination_cidr_block)).toEqual(toolsTables.map(() => "0.0.0.0/0"));
    expect(changes("aws-prod-platform", "aws_vpc_peering_connection").map((c: any) => c.change.after.auto_accept)).toEqual([true]);
    expect(changes("aws-prod-platform", "aws_route").map((c: any) => c.change.after.destination_cidr_block)).toEqual(toolsTables.map(() => "10.41.0.0/16"));
  });

  it("production's data stack reads the prod cluster's state only", () => {
    const sources = plans["aws-production-data"].plan.configuration.root_module.resources.filter((r: any) => r.type === "terraform_remote_state").map((r: any) => r.name);
    expect(sources).toEqual(["cross-stack-reference-input-aws-prod-platform"]);
  });
});
