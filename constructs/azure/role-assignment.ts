import { RoleAssignment } from "@cdktf/provider-azurerm/lib/role-assignment";
import type { Construct } from "constructs";

/** Built-in Azure role names the platform assigns. */
export const ROLES = {
  acrPull: "AcrPull",
  storageBlobDataContributor: "Storage Blob Data Contributor",
  storageBlobDelegator: "Storage Blob Delegator",
  storageAccountBackupContributor: "Storage Account Backup Contributor",
  aksRbacClusterAdmin: "Azure Kubernetes Service RBAC Cluster Admin",
  aksRbacAdmin: "Azure Kubernetes Service RBAC Admin",
  keyVaultSecretsUser: "Key Vault Secrets User",
  keyVaultSecretsOfficer: "Key Vault Secrets Officer",
  networkContributor: "Network Contributor",
  reader: "Reader",
  dnsZoneContributor: "DNS Zone Contributor",
  postgresLongTermRetentionBackup: "PostgreSQL Flexible Server Long Term Retention Backup Role",
  contributor: "Contributor",
  roleBasedAccessControlAdministrator: "Role Based Access Control Administrator",
  storageBlobDataReader: "Storage Blob Data Reader",
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
  props: {
    readonly principalId: string;
    readonly role: RoleName;
    readonly on: string;
    readonly principalType?: "ServicePrincipal" | "User" | "Group";
    /** An Azure ABAC condition (version 2.0) narrowing the role. */
    readonly condition?: string;
  },
): RoleAssignment {
  return new RoleAssignment(scope, id, {
    principalId: props.principalId,
    roleDefinitionName: props.role,
    scope: props.on,
    principalType: props.principalType,
    skipServicePrincipalAadCheck: props.principalType === "ServicePrincipal" ? true : undefined,
    condition: props.condition,
    conditionVersion: props.condition === undefined ? undefined : "2.0",
  });
}
