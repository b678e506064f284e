import { StorageAccount } from "@cdktf/provider-azurerm/lib/storage-account";
import { StorageContainer } from "@cdktf/provider-azurerm/lib/storage-container";
import { StorageManagementPolicy } from "@cdktf/provider-azurerm/lib/storage-management-policy";
import { Construct } from "constructs";
import { privateAccountSettings } from "./storage-account-settings";
import { LOKI_DATA_PREFIXES } from "../common/log-store";

/** Days a deleted blob or container stays recoverable. */
export const LOG_SOFT_DELETE_DAYS = 7;
export const LOG_CONTAINER = "loki";

export interface AzureLogStoreProps {
  /** 3-24 lowercase letters and digits, globally unique. */
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  /** The only subnet the account accepts traffic from: the cluster's nodes. */
  readonly subnetId: string;
  /** Days after which blobs expire, mirroring the log store's longest retention. */
  readonly expiryDays: number;
  /**
   * Zone-redundant instead of locally redundant storage, and kept through a
   * `terraform destroy`.
   * @default false
   */
  readonly protect?: boolean;
}

/**
 * The log store's storage account and its one container. Entra ID only (no
 * shared keys, so no account key or connection string exists to leak), TLS
 * 1.2, reachable only from the cluster's subnet through its service endpoint,
 * and a management policy that deletes what Loki's retention has passed.
 * Deleted blobs stay recoverable for a week (soft delete) rather than through
 * versions: Loki rewrites index files constantly, and every rewrite would
 * leave a version to pay for.
 */
export class AzureLogStore extends Construct {
  readonly account: StorageAccount;
  readonly container: StorageContainer;

  constructor(scope: Construct, id: string, props: AzureLogStoreProps) {
    super(scope, id);
    const protect = props.protect ?? false;
    this.account = new StorageAccount(this, "account", {
      name: props.name,
      location: props.location,
      resourceGroupName: props.resourceGroupName,
      ...privateAccountSettings(protect),
      allowedCopyScope: "PrivateLink",
      networkRules: {
        defaultAction: "Deny",
        virtualNetworkSubnetIds: [props.subnetId],
        // Azure's own services (monitoring, backup) are let through; nothing else is.
        bypass: ["AzureServices"],
      },
      blobProperties: {
        deleteRetentionPolicy: { days: LOG_SOFT_DELETE_DAYS },
        containerDeleteRetentionPolicy: { days: LOG_SOFT_DELETE_DAYS },
      },
      lifecycle: { preventDestroy: protect },
    });

    // By resource id: the container is made through Azure Resource Manager, so
    // the deployer needs no network path to the account's data plane.
    this.container = new StorageContainer(this, "container", {
      name: LOG_CONTAINER,
      storageAccountId: this.account.id,
      containerAccessType: "private",
    });

    new StorageManagementPolicy(this, "lifecycle", {
      storageAccountId: this.account.id,
      rule: [
        {
          name: "expire-loki-data",
          enabled: true,
          filters: { blobTypes: ["blockBlob"], prefixMatch: LOKI_DATA_PREFIXES.map((prefix) => `${LOG_CONTAINER}/${prefix}`) },
          actions: { baseBlob: { deleteAfterDaysSinceModificationGreaterThan: props.expiryDays } },
        },
      ],
    });
  }

  get name(): string {
    return this.account.name;
  }

  /** The container's Azure Resource Manager id: the scope of the log store's role. */
  get containerScope(): string {
    return this.container.id;
  }
}
