import { RoleAssignment } from "@cdktf/provider-azurerm/lib/role-assignment";
import type { Construct } from "constructs";

/** Built-in Azure role names the platform assigns. */
export const ROLES = {
  acrPull: "AcrPull",
  storageBlobDataContributor: "Storage Blob Data Contributor",
  storageBlobDelegator: "Storage Blob Delegator",
  storageAccountBackupContributor: "Storage Account Backup Contributor",
  aksRbacClusterAdmin: "Azure Kubernetes Service RBAC Cluster Admin",
  keyVaultSecretsUser: "Key Vault Secrets User",
  keyVaultSecretsOfficer: "Key Vault Secrets Officer",
  networkContributor: "Network Contributor",
  reader: "Reader",
  dnsZoneContributor: "DNS Zone Contributor",
  postgresLongTermRetentionBackup: "PostgreSQL Flexible Server Long Term Retention Backup Role",
} as const;

export type RoleName = (typeof ROLES)[keyof typeof ROLES];

/**
 * Grants a built-in role to a managed identity or principal. `principalType`
 * lets Azure skip the directory lookup that fails for identities created
 * seconds earlier.
 */
export function assignRole(
  scope: Construct,
  id: string,
  props: { readonly principalId: string; readonly role: RoleName; readonly on: string; readonly principalType?: "ServicePrincipal" | "User" | "Group" },
): RoleAssignment {
  return new RoleAssignment(scope, id, {
    principalId: props.principalId,
    roleDefinitionName: props.role,
    scope: props.on,
    principalType: props.principalType,
    skipServicePrincipalAadCheck: props.principalType === "ServicePrincipal" ? true : undefined,
  });
}
