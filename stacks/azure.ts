import type { App } from "cdktf";
import type { AzureConfig, PlatformConfig } from "../config";
import { databaseServerStackPart } from "../config/environments";
import { useAzureState } from "../constructs/azure/stack-setup";
import { AzureDatabaseServerStack } from "./azure-database-server-stack";
import { BOOTSTRAP_STACK_PART } from "../tools/stack-order";
import { AzureBootstrapStack } from "./azure-bootstrap-stack";
import { AzureDataStack } from "./azure-data-stack";
import { AzurePlatformStack } from "./azure-platform-stack";
import { environmentData, stackId, type CloudDeployment } from "./deployment";

/** `azure-platform`, one `azure-database-<server>` stack per shared server and one `azure-<env>-data` stack per environment. */
export function buildAzure(app: App, config: PlatformConfig, azure: AzureConfig): CloudDeployment {
  const platform = new AzurePlatformStack(app, stackId("azure", "platform"), { config, azure });
  const servers = Object.fromEntries(
    config.databaseServers.map((server) => [server.name, new AzureDatabaseServerStack(app, stackId("azure", databaseServerStackPart(server.name)), { config, azure, server, platform })]),
  );
  const data = config.environments.map((environment) => {
    const sharedServer = environment.database.server === undefined ? undefined : servers[environment.database.server].tenants[environment.name];
    return new AzureDataStack(app, stackId("azure", `${environment.name}-data`), { config, azure, environment, platform, sharedServer });
  });
  const ci = config.ci;
  return {
    cloud: "azure",
    platform,
    ...environmentData(config.environments, data),
    stacks: [platform, ...Object.values(servers), ...data],
    useState: (stack, id) => useAzureState(stack, azure, id),
    addBootstrap: ci ? (all) => new AzureBootstrapStack(app, stackId("azure", BOOTSTRAP_STACK_PART), { config, azure, ci, stacks: all }) : undefined,
  };
}
