/**
 * What every storage account of the platform has: Microsoft Entra ID only
 * (no shared keys, so no account key or connection string exists to leak;
 * no local users), TLS 1.2 and HTTPS only, no public blobs, no copies to
 * other tenants, and infrastructure (double) encryption at rest.
 */
export const STORAGE_ACCOUNT_BASELINE = {
  accountKind: "StorageV2",
  accountTier: "Standard",
  accessTier: "Hot",
  sharedAccessKeyEnabled: false,
  defaultToOauthAuthentication: true,
  localUserEnabled: false,
  minTlsVersion: "TLS1_2",
  httpsTrafficOnlyEnabled: true,
  allowNestedItemsToBePublic: false,
  crossTenantReplicationEnabled: false,
  infrastructureEncryptionEnabled: true,
  // Short-lived SAS only, should anyone ever turn keys back on.
  sasPolicy: { expirationPeriod: "01.00:00:00", expirationAction: "Log" },
} as const;
