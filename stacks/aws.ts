import { productionEnvironments } from "../constructs/common/uptime-targets";
import type { App } from "cdktf";
import type { AwsConfig, PlatformConfig } from "../config";
import { databaseServerStackPart } from "../config/environments";
import { AwsDatabaseServerStack } from "./aws-database-server-stack";
import { AwsDataStack } from "./aws-data-stack";
import { AwsPlatformStack } from "./aws-platform-stack";
import { useAwsState } from "../constructs/aws/stack-setup";
import { clusterCloud } from "../config/clusters";
import { applyPermissionsBoundary } from "../constructs/aws/environment-boundary";
import { clusterPlatforms, environmentData, platformOf, serverPlatform, stackId, type CloudDeployment } from "./deployment";
import { AwsBootstrapStack } from "./aws-bootstrap-stack";
import { BOOTSTRAP_STACK_PART } from "../tools/stack-order";

/** One `aws-[<cluster>-]platform` per cluster, one `aws-database-<server>` stack per shared server and one `aws-<env>-data` stack per environment. */
export function buildAws(app: App, config: PlatformConfig, aws: AwsConfig): CloudDeployment {
  const clusters = clusterPlatforms(config, "aws", (id, cluster, view, shared?: AwsPlatformStack) =>
    new AwsPlatformStack(app, id, { config: view, aws: clusterCloud(aws, cluster.clouds.aws), cluster, shared, allEnvironments: config.environments }),
  );
  const servers = Object.fromEntries(
    config.databaseServers.map((server) => [server.name, new AwsDatabaseServerStack(app, stackId("aws", databaseServerStackPart(server.name)), { config, aws, server, platform: serverPlatform(config, clusters, server.name) })]),
  );
  const data = config.environments.map((environment) => {
    const sharedServer = environment.database.server === undefined ? undefined : servers[environment.database.server].tenants[environment.name];
    return new AwsDataStack(app, stackId("aws", `${environment.name}-data`), { config, aws, environment, platform: platformOf(clusters, environment.name), sharedServer });
  });
  // Every role of a stack the CI deploy identity applies carries the boundary its grants require,
  // as its own cluster's platform hands it on.
  if (config.ci) {
    const production = new Set(productionEnvironments(config));
    config.environments.forEach((environment, i) => production.has(environment.name) || applyPermissionsBoundary(data[i], platformOf(clusters, environment.name).environmentBoundaryArn!));
    for (const server of config.databaseServers) {
      if (!server.environments.some((name) => production.has(name))) applyPermissionsBoundary(servers[server.name], serverPlatform(config, clusters, server.name).environmentBoundaryArn!);
    }
  }
  const ci = config.ci;
  return {
    cloud: "aws",
    platform: clusters[0].platform,
    clusters,
    ...environmentData(config.environments, data),
    stacks: [...clusters.map(({ platform }) => platform), ...Object.values(servers), ...data],
    useState: (stack, id) => useAwsState(stack, aws, id),
    addBootstrap: ci ? (all) => new AwsBootstrapStack(app, stackId("aws", BOOTSTRAP_STACK_PART), { config, aws, ci, stacks: all }) : undefined,
  };
}
