import type { EnvironmentConfig, PlatformConfig } from "../../config";
import { STAGE_SETTINGS } from "../../config/stages";

type RouteDomainSettings = Pick<PlatformConfig["domain"], "base" | "productionOnBase">;

/**
 * The DNS suffix of an environment's Knative routes: `<env>.<base>`, and the
 * base domain itself for production when `domain.productionOnBase` is set
 * (config allows one production environment there).
 */
export function environmentDomain(domain: RouteDomainSettings, environment: Pick<EnvironmentConfig, "name" | "stage">): string {
  if (STAGE_SETTINGS[environment.stage].mayServeBaseDomain && domain.productionOnBase) return domain.base;
  return `${environment.name}.${domain.base}`;
}

/** The public DNS names one environment's routes are served under. */
export interface ExposedDomain {
  readonly environment: string;
  /** The environment's route domain. */
  readonly domain: string;
  /**
   * Names that need a DNS record and a certificate: a wildcard for the
   * routes, and the base domain itself when production serves on it.
   */
  readonly names: string[];
}

/** Every name the platform publishes and certifies, by environment. */
export function exposedDomains(
  domain: RouteDomainSettings,
  environments: readonly Pick<EnvironmentConfig, "name" | "stage">[],
): ExposedDomain[] {
  return environments.map((environment) => {
    const routeDomain = environmentDomain(domain, environment);
    const names = routeDomain === domain.base ? [domain.base, `*.${domain.base}`] : [`*.${routeDomain}`];
    return { environment: environment.name, domain: routeDomain, names };
  });
}
