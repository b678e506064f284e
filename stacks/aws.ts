import type { App } from "cdktf";
import type { AwsConfig, PlatformConfig } from "../config";
import { AwsDataStack } from "./aws-data-stack";
import { AwsPlatformStack } from "./aws-platform-stack";
import { useAwsState } from "../constructs/aws/stack-setup";
import { stackId, type CloudDeployment } from "./deployment";

/** `aws-platform` and one `aws-<env>-data` stack per environment. */
export function buildAws(app: App, config: PlatformConfig, aws: AwsConfig): CloudDeployment {
  const platform = new AwsPlatformStack(app, stackId("aws", "platform"), { config, aws });
  const databases = Object.fromEntries(
    config.environments.map((environment) => {
      const data = new AwsDataStack(app, stackId("aws", `${environment.name}-data`), { config, aws, environment, platform });
      return [environment.name, data.endpoint];
    }),
  );
  return { cloud: "aws", platform, databases, useState: (stack, id) => useAwsState(stack, aws, id) };
}
