import type { TerraformStack } from "cdktf";
import type { PlatformConfig } from "../config";
import { clusterStackPart, type ClusterConfig } from "../config/clusters";
import { IN_CLUSTER, type ApplicationEndpoint, type ClusterPlatform, type DatabaseEndpoint } from "../constructs/contract";

/** Stack ids follow `<cloud>-<part>`. */
export const stackId = (cloud: string, part: string): string => `${cloud}-${part}`;

/** What one cloud's stacks give the cloud-agnostic add-on and environment stacks. */
export interface CloudDeployment {
  readonly cloud: string;
  /** The first cluster's platform, which holds the cloud's shared zone and registry. */
  readonly platform: ClusterPlatform;
  /** Every cluster of the cloud with its platform, in the config's order. */
  readonly clusters: readonly { readonly cluster: ClusterConfig; readonly platform: ClusterPlatform }[];
  /** Database endpoint per environment name. */
  readonly databases: Record<string, DatabaseEndpoint>;
  /** Per environment name, what each of its applications gets, by application name. */
  readonly applications: Record<string, Record<string, ApplicationEndpoint>>;
  /** Configures the cloud's state backend for an in-cluster stack. */
  useState(stack: TerraformStack, stackId: string): void;
  /** The cloud's stacks so far (platform and data); the in-cluster ones join them. */
  readonly stacks: TerraformStack[];
  /**
   * Adds the cloud's bootstrap stack (state storage and CI identities) once
   * every other stack exists, when the config has `ci`.
   */
  addBootstrap?(stacks: () => readonly TerraformStack[]): void;
}

/** What a cloud's environment data stacks give the in-cluster stacks, by environment name. */
export function environmentData(
  environments: readonly { readonly name: string }[],
  stacks: readonly { readonly endpoint: DatabaseEndpoint; readonly applications: Record<string, ApplicationEndpoint> }[],
): Pick<CloudDeployment, "databases" | "applications"> {
  return {
    databases: Object.fromEntries(stacks.map((stack, i) => [environments[i].name, stack.endpoint])),
    applications: Object.fromEntries(stacks.map((stack, i) => [environments[i].name, stack.applications])),
  };
}

/**
 * The config as one cluster's stacks see it: the cluster's environments
 * only, so that its platform's uptime checks, CI grants and data protection
 * and its add-ons' alerts and routes cover what runs in it and nothing else.
 */
export function clusterView(config: PlatformConfig, cluster: ClusterConfig): PlatformConfig {
  const own = new Set(cluster.environments);
  // Previews live in the cluster of the environment they borrow.
  const previews = config.previews && own.has(config.previews.environment) ? config.previews : undefined;
  return { ...config, environments: config.environments.filter((env) => own.has(env.name)), previews };
}

/** The platform of the cluster an environment runs in. */
export function platformOf<P>(clusters: readonly { readonly cluster: ClusterConfig; readonly platform: P }[], environment: string): P {
  const found = clusters.find(({ cluster }) => cluster.environments.includes(environment));
  if (!found) throw new Error(`environment '${environment}' is in no cluster`);
  return found.platform;
}

/**
 * One platform stack per cluster of a cloud, in the config's order; the
 * first one holds the cloud's shared zone and registry and is handed to the
 * others as `shared`.
 */
export function clusterPlatforms<P>(
  config: PlatformConfig,
  cloud: string,
  make: (id: string, cluster: ClusterConfig, view: PlatformConfig, shared: P | undefined) => P,
): { readonly cluster: ClusterConfig; readonly platform: P }[] {
  let shared: P | undefined;
  return config.clusters.map((cluster) => {
    const platform = make(stackId(cloud, clusterStackPart(cluster.name, "platform")), cluster, clusterView(config, cluster), shared);
    shared ??= platform;
    return { cluster, platform };
  });
}

/** The platform a shared database server sits in: its tenants' cluster's (the config keeps them in one). */
export function serverPlatform<P>(config: PlatformConfig, clusters: readonly { readonly cluster: ClusterConfig; readonly platform: P }[], server: string): P {
  const tenant = config.environments.find((env) => env.database.server === server);
  return tenant ? platformOf(clusters, tenant.name) : clusters[0].platform;
}

/**
 * Whether the CI deploy identity may work in the cluster's database-setup
 * namespace: it runs the setup Jobs of environments on shared servers and of
 * the previews' database role, each able to read its server's administrator
 * credentials. Only when no production-stage environment of the cluster
 * sits on a shared server: then every server set up there is one the deploy
 * identity already administers through its data stacks. Otherwise the
 * namespace holds the credentials of a server production uses, and stays the
 * production identity's alone.
 */
export function ciDeploysDatabaseSetup(config: PlatformConfig): boolean {
  const setUpHere = config.environments.some((env) => env.database.server !== undefined) || config.previews !== undefined;
  return setUpHere && !config.environments.some((env) => env.stage === "production" && env.database.server !== undefined);
}

/** The namespaces the CI deploy identity administers in one cluster (its config view): its environments', and database-setup when ciDeploysDatabaseSetup. */
export function ciDeployNamespaces(config: PlatformConfig): string[] {
  return [
    ...config.environments.filter((env) => env.stage !== "production").map((env) => env.name),
    ...(ciDeploysDatabaseSetup(config) ? [IN_CLUSTER.databaseSetup.namespace] : []),
  ];
}
