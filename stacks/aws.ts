import type { App, TerraformStack } from "cdktf";
import type { AwsConfig, PlatformConfig } from "../config";
import { AwsBootstrapStack } from "./aws-bootstrap-stack";
import { AwsDataStack } from "./aws-data-stack";
import { AwsPlatformStack } from "./aws-platform-stack";
import { useAwsState } from "../constructs/aws/stack-setup";
import { BOOTSTRAP_STACK_PART } from "../tools/stack-order";
import { stackId, type CloudDeployment } from "./deployment";

/** `aws-platform` and one `aws-<env>-data` stack per environment. */
export function buildAws(app: App, config: PlatformConfig, aws: AwsConfig): CloudDeployment {
  const platform = new AwsPlatformStack(app, stackId("aws", "platform"), { config, aws });
  const stacks: TerraformStack[] = [platform];
  const databases = Object.fromEntries(
    config.environments.map((environment) => {
      const data = new AwsDataStack(app, stackId("aws", `${environment.name}-data`), { config, aws, environment, platform });
      stacks.push(data);
      return [environment.name, data.endpoint];
    }),
  );
  const ci = config.ci;
  return {
    cloud: "aws",
    platform,
    databases,
    stacks,
    useState: (stack, id) => useAwsState(stack, aws, id),
    addBootstrap: ci ? (all) => new AwsBootstrapStack(app, stackId("aws", BOOTSTRAP_STACK_PART), { config, aws, ci, stacks: all }) : undefined,
  };
}
