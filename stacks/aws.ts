import type { App } from "cdktf";
import type { AwsConfig, PlatformConfig } from "../config";
import { databaseServerStackPart } from "../config/environments";
import { AwsDatabaseServerStack } from "./aws-database-server-stack";
import { AwsDataStack } from "./aws-data-stack";
import { AwsPlatformStack } from "./aws-platform-stack";
import { useAwsState } from "../constructs/aws/stack-setup";
import { applyPermissionsBoundary } from "../constructs/aws/environment-boundary";
import { environmentData, stackId, type CloudDeployment } from "./deployment";
import { AwsBootstrapStack } from "./aws-bootstrap-stack";
import { BOOTSTRAP_STACK_PART } from "../tools/stack-order";

/** `aws-platform`, one `aws-database-<server>` stack per shared server and one `aws-<env>-data` stack per environment. */
export function buildAws(app: App, config: PlatformConfig, aws: AwsConfig): CloudDeployment {
  const platform = new AwsPlatformStack(app, stackId("aws", "platform"), { config, aws });
  const servers = Object.fromEntries(
    config.databaseServers.map((server) => [server.name, new AwsDatabaseServerStack(app, stackId("aws", databaseServerStackPart(server.name)), { config, aws, server, platform })]),
  );
  const data = config.environments.map((environment) => {
    const sharedServer = environment.database.server === undefined ? undefined : servers[environment.database.server].tenants[environment.name];
    return new AwsDataStack(app, stackId("aws", `${environment.name}-data`), { config, aws, environment, platform, sharedServer });
  });
  // Every role of a stack the CI deploy identity applies carries the boundary its grants require.
  if (platform.environmentBoundary) {
    const boundaryArn = platform.environmentBoundary.policy.arn;
    const production = new Set(config.environments.filter((env) => env.stage === "production").map((env) => env.name));
    config.environments.forEach((environment, i) => production.has(environment.name) || applyPermissionsBoundary(data[i], boundaryArn));
    for (const server of config.databaseServers) {
      const tenants = config.environments.filter((env) => env.database.server === server.name);
      if (!tenants.some((env) => production.has(env.name))) applyPermissionsBoundary(servers[server.name], boundaryArn);
    }
  }
  const ci = config.ci;
  return {
    cloud: "aws",
    platform,
    ...environmentData(config.environments, data),
    stacks: [platform, ...Object.values(servers), ...data],
    useState: (stack, id) => useAwsState(stack, aws, id),
    addBootstrap: ci ? (all) => new AwsBootstrapStack(app, stackId("aws", BOOTSTRAP_STACK_PART), { config, aws, ci, stacks: all }) : undefined,
  };
}
