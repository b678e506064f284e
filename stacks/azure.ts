import type { App, TerraformStack } from "cdktf";
import type { AzureConfig, PlatformConfig } from "../config";
import { useAzureState } from "../constructs/azure/stack-setup";
import { BOOTSTRAP_STACK_PART } from "../tools/stack-order";
import { AzureBootstrapStack } from "./azure-bootstrap-stack";
import { AzureDataStack } from "./azure-data-stack";
import { AzurePlatformStack } from "./azure-platform-stack";
import { stackId, type CloudDeployment } from "./deployment";

/** `azure-platform` and one `azure-<env>-data` stack per environment. */
export function buildAzure(app: App, config: PlatformConfig, azure: AzureConfig): CloudDeployment {
  const platform = new AzurePlatformStack(app, stackId("azure", "platform"), { config, azure });
  const stacks: TerraformStack[] = [platform];
  const databases = Object.fromEntries(
    config.environments.map((environment) => {
      const data = new AzureDataStack(app, stackId("azure", `${environment.name}-data`), { config, azure, environment, platform });
      stacks.push(data);
      return [environment.name, data.endpoint];
    }),
  );
  const ci = config.ci;
  return {
    cloud: "azure",
    platform,
    databases,
    stacks,
    useState: (stack, id) => useAzureState(stack, azure, id),
    addBootstrap: ci ? (all) => new AzureBootstrapStack(app, stackId("azure", BOOTSTRAP_STACK_PART), { config, azure, ci, stacks: all }) : undefined,
  };
}
