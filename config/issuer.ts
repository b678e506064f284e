import type { PlatformConfig } from "./schema";

/**
 * A warning while the routes' certificate comes from Let's Encrypt's staging
 * environment: it proves delegation, identities and DNS-01 without spending
 * the production rate limits, but browsers reject its certificates, and the
 * external uptime checks, which validate them, fail on every exposed route.
 */
export function issuerWarning(config: Pick<PlatformConfig, "domain">): string | undefined {
  if (config.domain.issuer !== "letsencrypt-staging") return undefined;
  return [
    "warning: domain.issuer is letsencrypt-staging: browsers reject its certificates, and the external uptime checks fail on them.",
    "  Once `kubectl -n knative-serving get certificate routes` shows READY True, set domain.issuer: letsencrypt-production (docs/dns-and-tls.md).",
  ].join("\n");
}
