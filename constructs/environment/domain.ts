import type { EnvironmentConfig, PlatformConfig } from "../../config";

/**
 * The DNS suffix of an environment's Knative routes: `<env>.<base>`, and the
 * base domain itself for production when `domain.productionOnBase` is set
 * (config allows one production environment there).
 */
export function environmentDomain(domain: PlatformConfig["domain"], environment: Pick<EnvironmentConfig, "name" | "stage">): string {
  if (environment.stage === "production" && domain.productionOnBase) return domain.base;
  return `${environment.name}.${domain.base}`;
}
