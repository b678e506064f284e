import { z } from "zod";
import { awsSchema, type AwsConfig } from "./aws";
import { azureSchema, type AzureConfig } from "./azure";
import { overlaps, parseIpv4Network } from "./cidr";
import { dnsLabel } from "./common";
import { databaseServerStackPart } from "./environments";

/**
 * The cluster every environment runs in when the config lists no clusters.
 * Its stacks keep the names they had before clusters existed
 * (`<cloud>-platform`, `<cloud>-addons`), so existing state never moves.
 */
export const DEFAULT_CLUSTER = "main";

export const CLUSTER_ROLES = ["workload", "tools"] as const;
export type ClusterRole = (typeof CLUSTER_ROLES)[number];

/**
 * With a tools cluster, the clusters publish their Prometheus and Loki in the
 * private zone `internal.<base domain>` (docs/topology.md, "Central Grafana").
 */
export const PRIVATE_ZONE_LABEL = "internal";

/** The private zone of a base domain. */
export const privateZoneName = (baseDomain: string): string => `${PRIVATE_ZONE_LABEL}.${baseDomain}`;

/** Longest cluster name: it goes into every per-cluster resource name (docs/topology.md). */
export const MAX_CLUSTER_NAME = 12;

/**
 * A cloud's object schema with every field optional and no defaults: what a
 * cluster sets replaces the cloud's field, what it leaves out is inherited.
 */
function overrideOf<T extends z.ZodRawShape>(schema: z.ZodObject<T>): z.ZodType<Partial<z.output<z.ZodObject<T>>>> {
  const shape = Object.fromEntries(
    Object.entries(schema.shape).map(([key, field]) => {
      const inner = field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : (field as z.ZodType);
      // The cloud's own default is not this field's: what the cluster leaves out is the cloud's value.
      const description = ((field as z.ZodType).description ?? key).replace(/\s*Default:.*$/, "");
      return [key, inner.optional().describe(`${description} Default: the cloud's own.`)];
    }),
  );
  return z.object(shape).strict() as unknown as z.ZodType<Partial<z.output<z.ZodObject<T>>>>;
}

function cloudOverride<N extends z.ZodRawShape, C extends z.ZodRawShape>(network: z.ZodObject<N>, cluster: z.ZodObject<C>, name: string) {
  return z
    .object({
      network: overrideOf(network).optional().describe(`Fields of clouds.${name}.network this cluster sets itself; each replaces the cloud's.`),
      cluster: overrideOf(cluster).optional().describe(`Fields of clouds.${name}.cluster this cluster sets itself; each replaces the cloud's.`),
    })
    .strict();
}

export const clusterSchema = z
  .object({
    name: dnsLabel(MAX_CLUSTER_NAME)
      .regex(/^(?!.*--)/, { message: "no consecutive hyphens ('--'): the names derived from it refuse them" })
      .describe(`Cluster name, a DNS label of at most ${MAX_CLUSTER_NAME} characters. '${DEFAULT_CLUSTER}' keeps the stack ids <cloud>-platform and <cloud>-addons; any other name gets <cloud>-<name>-platform and <cloud>-<name>-addons.`),
    role: z
      .enum(CLUSTER_ROLES)
      .default("workload")
      .describe("workload: runs environments. tools: runs what operates the other clusters (central Grafana, CI runners) and may run no environment."),
    environments: z.array(z.string()).default([]).describe("Names of the environments this cluster runs; every environment is in exactly one cluster."),
    clouds: z
      .object({
        aws: cloudOverride(awsSchema.shape.network, awsSchema.shape.cluster, "aws").optional().describe("This cluster's own VPC and EKS settings on AWS."),
        azure: cloudOverride(azureSchema.shape.network, azureSchema.shape.cluster, "azure").optional().describe("This cluster's own VNet and AKS settings on Azure."),
      })
      .strict()
      .default({})
      .describe("Per-cloud settings of this cluster; what it leaves out comes from clouds.<cloud>."),
  })
  .strict();

export const clustersSchema = z
  .array(clusterSchema)
  .min(1, { message: "at least one cluster, or leave clusters out for one cluster holding every environment" })
  .optional()
  .describe(`The clusters of each cloud and the environments each runs (docs/topology.md). Default: one cluster '${DEFAULT_CLUSTER}' running every environment.`);

type RawCluster = z.output<typeof clusterSchema>;
export type ClusterOverrides = RawCluster["clouds"];

/** A cluster as the stacks read it: its environments by name, and what it sets per cloud. */
export interface ClusterConfig {
  readonly name: string;
  readonly role: ClusterRole;
  readonly environments: readonly string[];
  readonly clouds: ClusterOverrides;
}

/** The clusters a config describes: its own list, or `main` with every environment. */
export function resolveClusters(config: { clusters?: RawCluster[]; environments: readonly { name: string }[] }): ClusterConfig[] {
  return config.clusters ?? [{ name: DEFAULT_CLUSTER, role: "workload", environments: config.environments.map((env) => env.name), clouds: {} }];
}

/** A cloud's settings as one cluster sees them: the cluster's network and cluster fields over the cloud's. */
export function clusterCloud<C extends AwsConfig | AzureConfig>(cloud: C, override: { network?: object; cluster?: object } | undefined): C {
  if (!override) return cloud;
  return { ...cloud, network: { ...cloud.network, ...override.network }, cluster: { ...cloud.cluster, ...override.cluster } };
}

/** The VPC (AWS) or VNet (Azure) range of every cluster of a cloud but one, in the config's order. */
export function otherClusterRanges(config: { readonly clusters: readonly ClusterConfig[]; readonly clouds: { readonly aws?: AwsConfig; readonly azure?: AzureConfig } }, cloud: "aws" | "azure", except: string): string[] {
  return config.clusters
    .filter((cluster) => cluster.name !== except)
    .map((cluster) => (cloud === "aws" ? clusterCloud(config.clouds.aws!, cluster.clouds.aws).network.vpcCidr : clusterCloud(config.clouds.azure!, cluster.clouds.azure).network.vnetCidr));
}

/** The stack part of one of a cluster's stacks: `platform` for `main`, `<cluster>-platform` for the others. */
export const clusterStackPart = (cluster: string, part: "platform" | "addons"): string => (cluster === DEFAULT_CLUSTER ? part : `${cluster}-${part}`);

/** The stack parts of every cluster's platform and add-ons. */
export const clusterStackParts = (clusters: readonly { readonly name: string }[]): string[] =>
  clusters.flatMap((cluster) => [clusterStackPart(cluster.name, "platform"), clusterStackPart(cluster.name, "addons")]);

/** Where the resource names of a cluster's platform come from: `<project>-platform` for `main`, `<project>-<cluster>-platform` for the others. */
export const clusterNameParts = (project: string, cluster: string): string[] => (cluster === DEFAULT_CLUSTER ? [project, "platform"] : [project, cluster, "platform"]);

/** The first cluster holds what a cloud's clusters share: the DNS zone and the registry (docs/topology.md). */
export const isHomeCluster = (clusters: readonly ClusterConfig[], cluster: ClusterConfig): boolean => clusters[0].name === cluster.name;

type Issue = (path: (string | number)[], input: unknown, message: string) => void;

interface ClusterRulesInput {
  readonly project: string;
  readonly clusters?: RawCluster[];
  readonly environments: readonly { readonly name: string; readonly stage?: string; readonly database: { readonly server?: string } }[];
  readonly databaseServers: readonly { readonly name: string }[];
  readonly clouds: { readonly aws?: AwsConfig; readonly azure?: AzureConfig };
  readonly ci?: { readonly repository: string };
}

/** Resource names that grow with the cluster name, by cloud: `[what, name, limit]`. */
function derivedNames(config: ClusterRulesInput, cluster: string): [string, string, number][] {
  const names: [string, string, number][] = [];
  const base = clusterNameParts(config.project, cluster).join("-");
  const { aws, azure } = config.clouds;
  // IAM role names derived from the EKS cluster name stop at 64 characters.
  if (aws) {
    names.push(["the EKS cluster name", base, 40]);
    names.push(["the log bucket name", `${config.project}-${cluster}-logs-123456789012-${aws.region}`, 63]);
  }
  if (azure) {
    // AKS adds `-nodes` to the node resource group, whose names stop at 80 characters.
    names.push(["the AKS cluster name", base, 54]);
    names.push(["the Key Vault name", `${azure.keyVault.name}-${cluster}`, 24]);
    names.push(["the log storage account name", `${azure.logStorage.accountName ?? `${config.project.replace(/-/g, "")}logs`.slice(0, 24)}${cluster.replace(/-/g, "")}`, 24]);
  }
  return names;
}

/**
 * The topology's rules: every environment in exactly one cluster, stack ids
 * and derived names that fit, address ranges that can be peered, an SLA for
 * production on AKS.
 */
export function checkClusters(config: ClusterRulesInput, issue: Issue): void {
  const clusters = config.clusters;
  if (!clusters) return;
  const environmentNames = new Set(config.environments.map((env) => env.name));
  const clusterOf = new Map<string, string>();
  const names = new Map<string, number>();
  let tools: number | undefined;
  clusters.forEach((cluster, i) => {
    const at = (...rest: (string | number)[]) => ["clusters", i, ...rest];
    const previous = names.get(cluster.name);
    if (previous !== undefined) issue(at("name"), cluster.name, `duplicate cluster name; clusters[${previous}] is already named '${cluster.name}'`);
    names.set(cluster.name, i);
    if (cluster.role === "tools") {
      if (tools !== undefined) issue(at("role"), cluster.role, `clusters[${tools}] is already the tools cluster; one operates the others`);
      else if (i !== 0) issue(at("role"), cluster.role, `the tools cluster comes first in clusters: it is deployed first and holds the zones and the registry the others use; move '${cluster.name}' to clusters[0]`);
      tools ??= i;
      if (!config.ci) issue(at("role"), cluster.role, "a tools cluster runs the CI runners of ci.repository: configure ci (docs/runners.md)");
    } else if (cluster.environments.length === 0) {
      issue(at("environments"), cluster.environments, "a workload cluster runs at least one environment; list some, or set role: tools");
    }
    cluster.environments.forEach((env, j) => {
      if (!environmentNames.has(env)) {
        issue(at("environments", j), env, `unknown environment; configured environments are ${[...environmentNames].join(", ")}`);
      } else if (clusterOf.has(env)) {
        issue(at("environments", j), env, `already in cluster '${clusterOf.get(env)}'; each environment runs in exactly one cluster`);
      } else {
        clusterOf.set(env, cluster.name);
      }
    });
    for (const cloud of ["aws", "azure"] as const) {
      if (cluster.clouds[cloud] && !config.clouds[cloud]) issue(at("clouds", cloud), cloud, `sets ${cloud} settings, but clouds.${cloud} is not configured`);
    }
    if (cluster.name !== DEFAULT_CLUSTER) {
      for (const [what, name, limit] of derivedNames(config, cluster.name)) {
        if (name.length > limit) issue(at("name"), cluster.name, `makes ${what} '${name}' ${name.length} characters; the limit is ${limit}: shorten the cluster or project name`);
      }
    }
  });
  config.environments.forEach((env, i) => {
    if (tools !== undefined && env.name === PRIVATE_ZONE_LABEL) {
      issue(["environments", i, "name"], env.name, `is the label of the private zone ${PRIVATE_ZONE_LABEL}.<domain.base> the clusters publish their monitoring in when a tools cluster runs; name the environment otherwise`);
    }
    if (!clusterOf.has(env.name)) {
      issue(["environments", i, "name"], env.name, `in no cluster; list it in the environments of one of the clusters ${clusters.map((cluster) => cluster.name).join(", ")}`);
    }
  });
  checkStackIds(config, clusters, issue);
  checkSharedServers(config, clusterOf, issue);
  checkNetworks(config, clusters, issue);
  checkTiers(config, clusters, issue);
}

/** `<cloud>-<cluster>-platform` and `-addons` beside the environments' and servers' stacks: no id twice. */
function checkStackIds(config: ClusterRulesInput, clusters: readonly RawCluster[], issue: Issue): void {
  const taken = new Map<string, string>([
    ...config.environments.flatMap((env): [string, string][] => [
      [env.name, `environment '${env.name}'`],
      [`${env.name}-data`, `the data stack of environment '${env.name}'`],
    ]),
    ...config.databaseServers.map((server): [string, string] => [databaseServerStackPart(server.name), `database server '${server.name}'`]),
  ]);
  clusters.forEach((cluster, i) => {
    for (const part of [clusterStackPart(cluster.name, "platform"), clusterStackPart(cluster.name, "addons")]) {
      const owner = taken.get(part);
      if (owner) issue(["clusters", i, "name"], cluster.name, `its stack <cloud>-${part} collides with the stack of ${owner}; rename the cluster`);
      taken.set(part, `cluster '${cluster.name}'`);
    }
  });
}

/** A shared server sits in one cluster's network: its tenants run there. */
function checkSharedServers(config: ClusterRulesInput, clusterOf: ReadonlyMap<string, string>, issue: Issue): void {
  const serverCluster = new Map<string, string>();
  config.environments.forEach((env, i) => {
    const server = env.database.server;
    const cluster = clusterOf.get(env.name);
    if (server === undefined || cluster === undefined) return;
    const first = serverCluster.get(server);
    if (first !== undefined && first !== cluster) {
      issue(["environments", i, "database", "server"], server, `its tenants run in cluster '${first}', and a server lives in one cluster's network: move '${env.name}' there or give it another server`);
    }
    serverCluster.set(server, first ?? cluster);
  });
}

/** Ranges of one cloud's clusters stay apart, so that the clusters can be peered. */
function checkNetworks(config: ClusterRulesInput, clusters: readonly RawCluster[], issue: Issue): void {
  const fields = { aws: "vpcCidr", azure: "vnetCidr" } as const;
  for (const cloud of ["aws", "azure"] as const) {
    const base = config.clouds[cloud];
    if (!base) continue;
    const field = fields[cloud];
    const seen: { cluster: string; cidr: string }[] = [];
    clusters.forEach((cluster, i) => {
      const own = (cluster.clouds[cloud]?.network as Record<string, string> | undefined)?.[field];
      const cidr = own ?? (base.network as Record<string, string>)[field];
      const network = parseIpv4Network(cidr);
      const clash = seen.find((other) => {
        const theirs = parseIpv4Network(other.cidr);
        return network && theirs && overlaps(network, theirs);
      });
      if (clash) {
        const where = own ? ["clusters", i, "clouds", cloud, "network", field] : ["clusters", i, "clouds", cloud, "network"];
        issue(where, cidr, `${cidr} overlaps cluster '${clash.cluster}' (${clash.cidr}); clusters of a cloud need ranges apart so they can be peered: set clusters[${i}].clouds.${cloud}.network.${field}`);
      }
      seen.push({ cluster: cluster.name, cidr });
    });
  }
}

/** An AKS cluster running a production-stage environment carries the uptime SLA. */
function checkTiers(config: ClusterRulesInput, clusters: readonly RawCluster[], issue: Issue): void {
  const azure = config.clouds.azure;
  if (!azure) return;
  const production = new Set(config.environments.filter((env) => (env.stage ?? env.name) === "production").map((env) => env.name));
  clusters.forEach((cluster, i) => {
    const own = cluster.clouds.azure?.cluster?.skuTier;
    const tier = own ?? azure.cluster.skuTier;
    const serves = cluster.environments.find((env) => production.has(env));
    if (tier === "Free" && serves) {
      const where = own ? ["clusters", i, "clouds", "azure", "cluster", "skuTier"] : ["clouds", "azure", "cluster", "skuTier"];
      issue(where, tier, `cluster '${cluster.name}' serves production (${serves}) and needs the uptime SLA: Standard or Premium`);
    }
  });
}
