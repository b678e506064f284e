import type { App } from "cdktf";
import type { AzureConfig, PlatformConfig } from "../config";
import { databaseServerStackPart } from "../config/environments";
import { useAzureState } from "../constructs/azure/stack-setup";
import { AzureDatabaseServerStack } from "./azure-database-server-stack";
import { BOOTSTRAP_STACK_PART } from "../tools/stack-order";
import { AzureBootstrapStack } from "./azure-bootstrap-stack";
import { AzureDataStack } from "./azure-data-stack";
import { AzurePlatformStack } from "./azure-platform-stack";
import { clusterCloud } from "../config/clusters";
import { clusterPlatforms, environmentData, platformOf, serverPlatform, stackId, type CloudDeployment } from "./deployment";

/** One `azure-[<cluster>-]platform` per cluster, one `azure-database-<server>` stack per shared server and one `azure-<env>-data` stack per environment. */
export function buildAzure(app: App, config: PlatformConfig, azure: AzureConfig): CloudDeployment {
  const clusters = clusterPlatforms(config, "azure", (id, cluster, view, shared?: AzurePlatformStack) =>
    new AzurePlatformStack(app, id, { config: view, azure: clusterCloud(azure, cluster.clouds.azure), cluster, shared }),
  );
  const servers = Object.fromEntries(
    config.databaseServers.map((server) => [server.name, new AzureDatabaseServerStack(app, stackId("azure", databaseServerStackPart(server.name)), { config, azure, server, platform: serverPlatform(config, clusters, server.name) })]),
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
