import type { PlatformConfig } from "../../config";
import { environmentDomain } from "../environment/domain";
import { environmentsWhere } from "../../config/stages";

/** An application's health endpoint, checked over HTTPS from outside the cloud. */
export interface UptimeTarget {
  readonly environment: string;
  readonly application: string;
  /** Host name Knative serves the application on: `<app>.<environment domain>`. */
  readonly host: string;
  /** Path of the health endpoint, e.g. `/api/v1/health`. */
  readonly path: string;
}

/** Every application of every environment with `alerts.uptimeChecks` (production by default). */
export function uptimeTargets(config: PlatformConfig): UptimeTarget[] {
  const healthPaths = new Map(config.applications.map((app) => [app.name, app.healthPath]));
  return config.environments
    .filter((environment) => environment.alerts.uptimeChecks)
    .flatMap((environment) =>
      environment.applications.map((application) => ({
        environment: environment.name,
        application,
        host: `${application}.${environmentDomain(config.domain, environment)}`,
        path: healthPaths.get(application)!,
      })),
    );
}

/** The environments the production CI identity deploys: their stacks are production's. */
export function productionEnvironments(config: Pick<PlatformConfig, "environments">): string[] {
  return environmentsWhere(config.environments, (stage) => stage.ciIdentity === "production");
}
