import { ManagementLock } from "@cdktf/provider-azurerm/lib/management-lock";
import { StorageAccount } from "@cdktf/provider-azurerm/lib/storage-account";
import { StorageContainer } from "@cdktf/provider-azurerm/lib/storage-container";
import { Construct } from "constructs";
import { privateAccountSettings } from "./storage-account-settings";

/** Days a deleted or overwritten state blob, and a deleted container, stay recoverable. */
export const STATE_RETENTION_DAYS = 90;

export interface StateStorageProps {
  readonly accountName: string;
  readonly containerName: string;
  readonly location: string;
  readonly resourceGroupName: string;
}

/**
 * Terraform's state, for every stack: a storage account that only Microsoft
 * Entra ID identities can use (no shared keys, so no key to leak), TLS 1.2,
 * double encryption at rest (the platform's storage approach), geo-redundant,
 * with every version of a blob kept and deleted blobs and containers
 * recoverable for 90 days. The backend locks a state with a blob lease, so
 * nothing else is needed for locking. The account and its container survive
 * `terraform destroy` (`prevent_destroy`), and a delete lock stops the portal
 * and the CLI as well.
 *
 * The public endpoint stays on: GitHub-hosted runners plan through it, with
 * their Entra ID token; a firewall would have to admit every runner.
 */
export class StateStorage extends Construct {
  readonly account: StorageAccount;
  readonly container: StorageContainer;

  constructor(scope: Construct, id: string, props: StateStorageProps) {
    super(scope, id);
    this.account = new StorageAccount(this, "account", {
      name: props.accountName,
      location: props.location,
      resourceGroupName: props.resourceGroupName,
      ...privateAccountSettings(true),
      // Every stack's state: a copy in the paired region too.
      accountReplicationType: "GRS",
      // Short-lived SAS only, should anyone ever turn keys back on.
      sasPolicy: { expirationPeriod: "01.00:00:00", expirationAction: "Log" },
      blobProperties: {
        versioningEnabled: true,
        changeFeedEnabled: true,
        deleteRetentionPolicy: { days: STATE_RETENTION_DAYS },
        containerDeleteRetentionPolicy: { days: STATE_RETENTION_DAYS },
      },
      lifecycle: { preventDestroy: true },
    });

    // By resource id: created through Azure Resource Manager, no data-plane access needed.
    this.container = new StorageContainer(this, "container", {
      name: props.containerName,
      storageAccountId: this.account.id,
      containerAccessType: "private",
      lifecycle: { preventDestroy: true },
    });

    new ManagementLock(this, "lock", {
      name: "protect-terraform-state",
      scope: this.account.id,
      lockLevel: "CanNotDelete",
      notes: "Terraform state of every stack. Remove deliberately: see docs/bootstrap.md.",
      dependsOn: [this.container],
    });
  }

  /** The container's Azure Resource Manager id: the scope of the identities' blob roles. */
  get containerScope(): string {
    return this.container.id;
  }
}
