import type { App } from "cdktf";
import type { PlatformConfig } from "../config";
import { AddonsStack } from "./addons-stack";
import { buildAws } from "./aws";
import { buildAzure } from "./azure";
import { clusterStackPart } from "../config/clusters";
import { clusterView, stackId, type CloudDeployment } from "./deployment";
import { EnvironmentStack } from "./environment-stack";

export { stackId } from "./deployment";

/** Adds every stack the configuration asks for to the app. */
export function buildPlatform(app: App, config: PlatformConfig): void {
  const deployments: CloudDeployment[] = [];
  if (config.clouds.aws) deployments.push(buildAws(app, config, config.clouds.aws));
  if (config.clouds.azure) deployments.push(buildAzure(app, config, config.clouds.azure));

  // Above this line clouds differ; below it, every stack takes only the contract.
  for (const deployment of deployments) {
    for (const { cluster, platform } of deployment.clusters) {
      const view = clusterView(config, cluster);
      const addons = new AddonsStack(app, stackId(deployment.cloud, clusterStackPart(cluster.name, "addons")), {
        config: view,
        platform,
        useState: deployment.useState,
        cluster: { name: cluster.name, role: cluster.role, environments: [...cluster.environments] },
        clusterLabel: config.clusters.length > 1 ? cluster.name : undefined,
      });
      deployment.stacks.push(addons);
      // Each environment's stack reads its own cluster's platform: its state, its kubeconfig.
      for (const environment of view.environments) {
        const stack = new EnvironmentStack(app, stackId(deployment.cloud, environment.name), {
          platform,
          database: deployment.databases[environment.name],
          applications: deployment.applications[environment.name],
          config: view,
          environment,
          previews: view.previews?.environment === environment.name ? { project: config.project, applications: config.applications, previews: view.previews } : undefined,
          useState: deployment.useState,
        });
        // Flux and External Secrets CRDs come with the add-ons.
        stack.addDependency(addons);
        deployment.stacks.push(stack);
      }
    }
  }
  // Last, so that it is prepared after every stack whose state its policies name.
  for (const deployment of deployments) deployment.addBootstrap?.(() => deployment.stacks);
}
