import type { App } from "cdktf";
import type { PlatformConfig } from "../config";
import { AwsDataStack } from "./aws-data-stack";
import { AwsPlatformStack } from "./aws-platform-stack";

/** Stack ids follow `<cloud>-<part>`. */
export const stackId = (cloud: string, part: string): string => `${cloud}-${part}`;

/** Adds every stack the configuration asks for to the app. */
export function buildPlatform(app: App, config: PlatformConfig): void {
  const aws = config.clouds.aws;
  if (aws) {
    const platform = new AwsPlatformStack(app, stackId("aws", "platform"), { config, aws });
    for (const environment of config.environments) {
      new AwsDataStack(app, stackId("aws", `${environment.name}-data`), { config, aws, environment, platform });
    }
  }
}
