import type { PlatformConfig } from "../../config";
import { environmentDomain, exposedDomains } from "../../constructs/environment/domain";
import { clusterCloud, clusterStackPart } from "../../config/clusters";
import { stackId } from "../../stacks/deployment";

/** An application as the doctor reaches it from outside: `https://<host><healthPath>`. */
export interface ApplicationTarget {
  readonly name: string;
  readonly host: string;
  readonly healthPath: string;
}

/** One environment of a cluster: its namespace, names, GitOps source and stacks. */
export interface EnvironmentTarget {
  readonly name: string;
  readonly stage: string;
  /** The environment's namespace (its name). */
  readonly namespace: string;
  /** DNS suffix of its routes. */
  readonly domain: string;
  /** Names its routes are published and certified under (`*.<domain>`, and the base domain for production on it). */
  readonly names: readonly string[];
  readonly gitops: { readonly url: string; readonly branch: string; readonly path: string };
  readonly applications: readonly ApplicationTarget[];
  readonly stacks: { readonly data: string; readonly environment: string };
}

/**
 * One cluster the doctor examines, with everything it needs from the config.
 * A config with several clusters per cloud yields one target per cluster.
 */
export interface ClusterTarget {
  readonly cloud: "aws" | "azure";
  /** A label for the report until the platform stack's outputs name the cluster. */
  readonly label: string;
  readonly stacks: { readonly platform: string; readonly addons: string };
  /** AWS region; undefined on Azure. */
  readonly region?: string;
  /** Name of the public DNS zone. */
  readonly zoneName: string;
  /** The ClusterIssuer the routes' certificate should come from. */
  readonly issuer: string;
  /** Karpenter NodePools the platform configures; empty where the cloud scales its node pools itself. */
  readonly nodePools: readonly string[];
  readonly environments: readonly EnvironmentTarget[];
}

/** The clusters of a configuration, in the order their stacks are deployed: every cluster of every cloud. */
export function clusterTargets(config: PlatformConfig): ClusterTarget[] {
  const clouds = (["aws", "azure"] as const).filter((cloud) => config.clouds[cloud] !== undefined);
  const healthPaths = new Map(config.applications.map((app) => [app.name, app.healthPath]));
  const exposed = new Map(exposedDomains(config.domain, config.environments).map((e) => [e.environment, e.names]));
  return clouds.flatMap((cloud) =>
    config.clusters.map((cluster) => {
      const platform = stackId(cloud, clusterStackPart(cluster.name, "platform"));
      const own = new Set(cluster.environments);
      return {
        cloud,
        label: platform,
        stacks: { platform, addons: stackId(cloud, clusterStackPart(cluster.name, "addons")) },
        region: cloud === "aws" ? config.clouds.aws!.region : undefined,
        zoneName: config.domain.existingZone?.name ?? config.domain.base,
        issuer: config.domain.issuer,
        nodePools: cloud === "aws" ? clusterCloud(config.clouds.aws!, cluster.clouds.aws).cluster.nodePools.map((pool) => pool.name) : [],
        environments: config.environments
          .filter((environment) => own.has(environment.name))
          .map((environment) => {
            const domain = environmentDomain(config.domain, environment);
            return {
              name: environment.name,
              stage: environment.stage,
              namespace: environment.name,
              domain,
              names: exposed.get(environment.name) ?? [],
              gitops: { url: config.gitops.url, branch: environment.gitops.branch, path: environment.gitops.path },
              applications: environment.applications.map((name) => ({ name, host: `${name}.${domain}`, healthPath: healthPaths.get(name) ?? "/" })),
              stacks: { data: stackId(cloud, `${environment.name}-data`), environment: stackId(cloud, environment.name) },
            };
          }),
      };
    }),
  );
}
