import { KeyVault } from "@cdktf/provider-azurerm/lib/key-vault";
import { Construct } from "constructs";
import { assignRole, ROLES } from "./role-assignment";

export interface PlatformKeyVaultProps {
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  readonly tenantId: string;
  readonly softDeleteRetentionDays: number;
  /** The principal running Terraform, which writes the generated secrets. */
  readonly deployerObjectId: string;
}

/**
 * The platform's secret store: Azure RBAC instead of access policies, purge
 * protection so a deleted secret can always be recovered, and `prevent_destroy`
 * because the database passwords live here.
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
      lifecycle: { preventDestroy: true },
    });
    assignRole(this, "deployer-secrets-officer", { principalId: props.deployerObjectId, role: ROLES.keyVaultSecretsOfficer, on: this.vault.id });
  }

  get id(): string {
    return this.vault.id;
  }

  get uri(): string {
    return this.vault.vaultUri;
  }
}
