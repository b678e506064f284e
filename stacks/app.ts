import type { App } from "cdktf";
import type { PlatformConfig } from "../config";
import { AddonsStack } from "./addons-stack";
import { buildAws } from "./aws";
import { buildAzure } from "./azure";
import { stackId, type CloudDeployment } from "./deployment";
import { EnvironmentStack } from "./environment-stack";

export { stackId } from "./deployment";

/** Adds every stack the configuration asks for to the app. */
export function buildPlatform(app: App, config: PlatformConfig): void {
  const deployments: CloudDeployment[] = [];
  if (config.clouds.aws) deployments.push(buildAws(app, config, config.clouds.aws));
  if (config.clouds.azure) deployments.push(buildAzure(app, config, config.clouds.azure));

  // Above this line clouds differ; below it, every stack takes only the contract.
  for (const deployment of deployments) {
    const addons = new AddonsStack(app, stackId(deployment.cloud, "addons"), { config, platform: deployment.platform, useState: deployment.useState });
    deployment.stacks.push(addons);
    for (const environment of config.environments) {
      const stack = new EnvironmentStack(app, stackId(deployment.cloud, environment.name), {
        platform: deployment.platform,
        database: deployment.databases[environment.name],
        applications: deployment.applications[environment.name],
        config,
        environment,
        previews: config.previews?.environment === environment.name ? { project: config.project, applications: config.applications, previews: config.previews } : undefined,
        useState: deployment.useState,
      });
      // Flux and External Secrets CRDs come with the add-ons.
      stack.addDependency(addons);
      deployment.stacks.push(stack);
    }
  }
  // Last, so that it is prepared after every stack whose state its policies name.
  for (const deployment of deployments) deployment.addBootstrap?.(() => deployment.stacks);
}
