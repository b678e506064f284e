/**
 * What every storage account of the platform has: StorageV2, hot tier,
 * Entra ID only (no shared keys or local users, so no key or connection
 * string exists to leak), TLS 1.2 and HTTPS only, no anonymous access, no
 * replication to other tenants, infrastructure encryption; zone-redundant
 * when it holds production data, locally redundant otherwise.
 */
export function privateAccountSettings(zoneRedundant: boolean) {
  return {
    accountKind: "StorageV2",
    accountTier: "Standard",
    accountReplicationType: zoneRedundant ? "ZRS" : "LRS",
    accessTier: "Hot",
    sharedAccessKeyEnabled: false,
    defaultToOauthAuthentication: true,
    localUserEnabled: false,
    minTlsVersion: "TLS1_2",
    httpsTrafficOnlyEnabled: true,
    allowNestedItemsToBePublic: false,
    crossTenantReplicationEnabled: false,
    infrastructureEncryptionEnabled: true,
  } as const;
}
