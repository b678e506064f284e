import type { App } from "cdktf";
import type { AwsConfig, PlatformConfig } from "../config";
import { databaseServerStackPart } from "../config/environments";
import { AwsDatabaseServerStack } from "./aws-database-server-stack";
import { AwsDataStack } from "./aws-data-stack";
import { AwsPlatformStack } from "./aws-platform-stack";
import { useAwsState } from "../constructs/aws/stack-setup";
import { clusterCloud, clusterStackPart } from "../config/clusters";
import { clusterView, environmentData, platformOf, stackId, type CloudDeployment } from "./deployment";
import { AwsBootstrapStack } from "./aws-bootstrap-stack";
import { BOOTSTRAP_STACK_PART } from "../tools/stack-order";

/** `aws-platform`, one `aws-database-<server>` stack per shared server and one `aws-<env>-data` stack per environment. */
export function buildAws(app: App, config: PlatformConfig, aws: AwsConfig): CloudDeployment {
  // The first cluster's platform holds the zone and registry every cluster uses.
  let shared: AwsPlatformStack | undefined;
  const clusters = config.clusters.map((cluster) => {
    const platform = new AwsPlatformStack(app, stackId("aws", clusterStackPart(cluster.name, "platform")), {
      config: clusterView(config, cluster),
      aws: clusterCloud(aws, cluster.clouds.aws),
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
    config.databaseServers.map((server) => [server.name, new AwsDatabaseServerStack(app, stackId("aws", databaseServerStackPart(server.name)), { config, aws, server, platform: serverPlatform(server.name) })]),
  );
  const data = config.environments.map((environment) => {
    const sharedServer = environment.database.server === undefined ? undefined : servers[environment.database.server].tenants[environment.name];
    return new AwsDataStack(app, stackId("aws", `${environment.name}-data`), { config, aws, environment, platform: platformOf(clusters, environment.name), sharedServer });
  });
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
