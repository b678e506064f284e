import type { App } from "cdktf";
import type { AzureConfig, PlatformConfig } from "../config";
import { databaseServerStackPart } from "../config/environments";
import { useAzureState } from "../constructs/azure/stack-setup";
import { AzureDatabaseServerStack } from "./azure-database-server-stack";
import { BOOTSTRAP_STACK_PART } from "../tools/stack-order";
import { AzureBootstrapStack } from "./azure-bootstrap-stack";
import { AzureDataStack } from "./azure-data-stack";
import { AzurePlatformStack } from "./azure-platform-stack";
import { clusterCloud, clusterStackPart } from "../config/clusters";
import { clusterView, environmentData, platformOf, stackId, type CloudDeployment } from "./deployment";

/** `azure-platform`, one `azure-database-<server>` stack per shared server and one `azure-<env>-data` stack per environment. */
export function buildAzure(app: App, config: PlatformConfig, azure: AzureConfig): CloudDeployment {
  // The first cluster's platform holds the zone and registry every cluster uses.
  let shared: AzurePlatformStack | undefined;
  const clusters = config.clusters.map((cluster) => {
    const platform = new AzurePlatformStack(app, stackId("azure", clusterStackPart(cluster.name, "platform")), {
      config: clusterView(config, cluster),
      azure: clusterCloud(azure, cluster.clouds.azure),
      cluster,
      shared,
    });
    shared ??= platform;
    return { cluster, platform };
  });
  // A shared server sits in the network of the cluster its tenants run in (the config keeps them in one).
  const serverPlatform = (server: string) => {
    const tenant = config.environments.find((env) => env.database.server === server);
    return tenant ? platformOf(clusters, tenant.name) : clusters[0].platform;
  };
  const servers = Object.fromEntries(
    config.databaseServers.map((server) => [server.name, new AzureDatabaseServerStack(app, stackId("azure", databaseServerStackPart(server.name)), { config, azure, server, platform: serverPlatform(server.name) })]),
  );
  const data = config.environments.map((environment) => {
    const sharedServer = environment.database.server === undefined ? undefined : servers[environment.database.server].tenants[environment.name];
    return new AzureDataStack(app, stackId("azure", `${environment.name}-data`), { config, azure, environment, platform: platformOf(clusters, environment.name), sharedServer });
  });
  const ci = config.ci;
  return {
    cloud: "azure",
    platform: clusters[0].platform,
    clusters,
    ...environmentData(config.environments, data),
    stacks: [...clusters.map(({ platform }) => platform), ...Object.values(servers), ...data],
    useState: (stack, id) => useAzureState(stack, azure, id),
    addBootstrap: ci ? (all) => new AzureBootstrapStack(app, stackId("azure", BOOTSTRAP_STACK_PART), { config, azure, ci, stacks: all }) : undefined,
  };
}
