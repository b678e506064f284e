import { KeyVault } from "@cdktf/provider-azurerm/lib/key-vault";
import { Construct } from "constructs";
import { assignRole, ROLES } from "./role-assignment";

/** A principal granted a role on the vault; `id` names its role assignment. */
export interface VaultGrantee {
  readonly id: string;
  readonly principalId: string;
  readonly principalType: "ServicePrincipal" | "Group" | "User";
}

export interface PlatformKeyVaultProps {
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  readonly tenantId: string;
  readonly softDeleteRetentionDays: number;
  /**
   * Who may write secrets (the identities that apply the data stacks, the
   * administrator groups) and who may read them (the review identity), by
   * construct id. Never whoever runs Terraform: a grant to the caller would
   * move to every other identity that applies the stack.
   */
  readonly secretsOfficers: readonly VaultGrantee[];
  readonly secretsReaders: readonly VaultGrantee[];
  /** Subnets the firewall admits (each needs the `Microsoft.KeyVault` service endpoint). */
  readonly allowedSubnetIds: string[];
  /** Public ranges the firewall admits: where Terraform and operators run. */
  readonly allowedIpRanges: string[];
}

/**
 * The platform's secret store: Azure RBAC instead of access policies, purge
 * protection so a deleted secret can always be recovered, and `prevent_destroy`
 * because the database passwords live here. A firewall denies every network
 * but the nodes subnet, the deployers' ranges and trusted Azure services.
 */
export class PlatformKeyVault extends Construct {
  readonly vault: KeyVault;

  constructor(scope: Construct, id: string, props: PlatformKeyVaultProps) {
    super(scope, id);
    this.vault = new KeyVault(this, "vault", {
      name: props.name,
      location: props.location,
      resourceGroupName: props.resourceGroupName,
      tenantId: props.tenantId,
      skuName: "standard",
      rbacAuthorizationEnabled: true,
      purgeProtectionEnabled: true,
      softDeleteRetentionDays: props.softDeleteRetentionDays,
      networkAcls: {
        defaultAction: "Deny",
        bypass: "AzureServices",
        virtualNetworkSubnetIds: props.allowedSubnetIds,
        // Key Vault takes a single address, not a /32 range.
        ipRules: props.allowedIpRanges.map((range) => range.replace(/\/32$/, "")),
      },
      lifecycle: { preventDestroy: true },
    });
    for (const grantee of props.secretsOfficers) {
      assignRole(this, grantee.id, { principalId: grantee.principalId, role: ROLES.keyVaultSecretsOfficer, on: this.vault.id, principalType: grantee.principalType });
    }
    for (const grantee of props.secretsReaders) {
      assignRole(this, grantee.id, { principalId: grantee.principalId, role: ROLES.keyVaultSecretsUser, on: this.vault.id, principalType: grantee.principalType });
    }
  }

  get id(): string {
    return this.vault.id;
  }

  get uri(): string {
    return this.vault.vaultUri;
  }
}
