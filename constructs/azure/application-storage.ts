import { ManagementLock } from "@cdktf/provider-azurerm/lib/management-lock";
import { MonitorMetricAlert } from "@cdktf/provider-azurerm/lib/monitor-metric-alert";
import type { RoleAssignment } from "@cdktf/provider-azurerm/lib/role-assignment";
import { StorageAccount } from "@cdktf/provider-azurerm/lib/storage-account";
import { StorageContainer } from "@cdktf/provider-azurerm/lib/storage-container";
import { StorageManagementPolicy } from "@cdktf/provider-azurerm/lib/storage-management-policy";
import { Fn, type TerraformResource } from "cdktf";
import { Construct } from "constructs";
import { privateAccountSettings } from "./storage-account-settings";
import type { ApplicationConfig } from "../../config";
import { OPERATIONAL_BACKUP_DAYS } from "../../config/environments";
import { CLOUD_ALARMS, runbookUrl } from "../common/runbook";
import type { ObjectStorageEndpoint } from "../contract";
import { ROLES } from "./role-assignment";
import type { ServiceAccountIdentity } from "./workload-identity";

/** Days a deleted blob or container stays recoverable (soft delete), without backups. */
export const SOFT_DELETE_DAYS = 7;
export { OPERATIONAL_BACKUP_DAYS } from "../../config/environments";

/**
 * Transaction response types (the `ResponseType` dimension of the account's
 * `Transactions` metric) that count as refused access and as the service's
 * own failures. Platform metrics: free to read, alerts a few cents a month.
 */
export const DENIED_RESPONSE_TYPES = ["AuthorizationError", "AuthenticationError", "SASAuthorizationError"];
export const SERVER_ERROR_RESPONSE_TYPES = ["ServerOtherError", "ServerTimeoutError", "ServerBusyError"];
/** Requests per quarter hour above which either alert fires. */
export const STORAGE_ERROR_THRESHOLD = 5;

/** 3-24 lowercase letters and digits: the start of the names, then 8 hex digits unique to the subscription. */
export function storageAccountName(subscriptionId: string, project: string, environment: string, application: string): string {
  const prefix = `${project}${environment}${application}`.replace(/[^a-z0-9]/g, "").slice(0, 16);
  return `${prefix}${Fn.substr(Fn.sha1(Fn.join("/", [subscriptionId, project, environment, application])), 0, 8)}`;
}

export interface ApplicationStorageProps {
  /** Storage account name, 3-24 lowercase letters and digits, globally unique (`storageAccountName`). */
  readonly accountName: string;
  readonly location: string;
  readonly resourceGroupName: string;
  /** The container's name: the application's. */
  readonly application: string;
  readonly settings: NonNullable<ApplicationConfig["objectStorage"]>;
  /** The cluster's nodes subnet: the only network the account admits when no browser calls it. */
  readonly nodesSubnetId: string;
  /** The application's identity in this environment: the one principal with data access. */
  readonly identity: ServiceAccountIdentity;
  /** Where the access-denied and server-error alerts go. */
  readonly actionGroupId: string;
  /** Prefix of the alert names. */
  readonly alertPrefix: string;
  /**
   * Production: zone-redundant storage and `prevent_destroy` (the delete lock is `lock()`).
   * @default false
   */
  readonly protect?: boolean;
  /**
   * Point-in-time restore of the container, as operational backup keeps it
   * (the account's change feed, versions and restore policy).
   * @default false
   */
  readonly operationalBackup?: boolean;
}

/**
 * One application's container in one environment, in a storage account of its
 * own: versioning, soft delete and CORS are account settings on Azure, and
 * each application's come from its config. Entra ID only (no shared keys, so
 * no key or connection string exists), TLS 1.2, no anonymous access. The
 * network admits the cluster's nodes only, unless the application lists CORS
 * origins: then browsers reach it with a user delegation SAS the application
 * signs, which Entra ID and the container's role still bound.
 */
export class ApplicationStorage extends Construct {
  readonly account: StorageAccount;
  readonly container: StorageContainer;
  /** The application's roles: data on the container, and user delegation keys when browsers upload. */
  readonly grants: RoleAssignment[] = [];
  /** Resources under the account's scope, which a lock on it covers. */
  private readonly children: TerraformResource[];

  constructor(scope: Construct, id: string, props: ApplicationStorageProps) {
    super(scope, id);
    const protect = props.protect ?? false;
    const { settings } = props;
    const browsers = settings.cors.length > 0;
    const restoreDays = props.operationalBackup ? OPERATIONAL_BACKUP_DAYS : undefined;

    this.account = new StorageAccount(this, "account", {
      name: props.accountName,
      location: props.location,
      resourceGroupName: props.resourceGroupName,
      ...privateAccountSettings(protect),
      allowedCopyScope: "AAD",
      networkRules: browsers
        ? // Browsers come from anywhere; every request still needs Entra ID or a user delegation SAS.
          { defaultAction: "Allow", bypass: ["AzureServices"] }
        : { defaultAction: "Deny", virtualNetworkSubnetIds: [props.nodesSubnetId], bypass: ["AzureServices"] },
      blobProperties: {
        versioningEnabled: settings.versioning,
        // Point-in-time restore needs the change feed and a soft delete that outlasts it.
        changeFeedEnabled: restoreDays !== undefined ? true : undefined,
        restorePolicy: restoreDays !== undefined ? { days: restoreDays } : undefined,
        deleteRetentionPolicy: { days: restoreDays !== undefined ? restoreDays + 1 : SOFT_DELETE_DAYS },
        containerDeleteRetentionPolicy: { days: SOFT_DELETE_DAYS },
        corsRule: settings.cors.map((rule) => ({
          allowedOrigins: rule.origins,
          allowedMethods: rule.methods,
          allowedHeaders: rule.headers,
          exposedHeaders: rule.exposeHeaders,
          maxAgeInSeconds: rule.maxAgeSeconds,
        })),
      },
      // Short-lived SAS only, should anyone ever turn keys back on.
      sasPolicy: { expirationPeriod: "01.00:00:00", expirationAction: "Log" },
      lifecycle: { preventDestroy: protect },
    });

    // By resource id: made through Azure Resource Manager, so the deployer needs no path to the data plane.
    this.container = new StorageContainer(this, "container", {
      name: props.application,
      storageAccountId: this.account.id,
      containerAccessType: "private",
      lifecycle: { preventDestroy: protect },
    });
    const children: TerraformResource[] = [this.container];

    if (settings.noncurrentVersionDays !== undefined) {
      children.push(
        new StorageManagementPolicy(this, "lifecycle", {
          storageAccountId: this.account.id,
          rule: [
            {
              name: "delete-earlier-versions",
              enabled: true,
              filters: { blobTypes: ["blockBlob"] },
              actions: { version: { deleteAfterDaysSinceCreation: settings.noncurrentVersionDays } },
            },
          ],
        }),
      );
    }

    // Data on this container only; browsers' user delegation keys are an account-level action.
    this.grants.push(props.identity.grant("objects", ROLES.storageBlobDataContributor, this.container.id));
    if (browsers) this.grants.push(props.identity.grant("user-delegation", ROLES.storageBlobDelegator, this.account.id));

    for (const [alert, types, what, runbook] of [
      ["denied", DENIED_RESPONSE_TYPES, "were refused (authorization or authentication)", CLOUD_ALARMS.objectStorageAccessDenied],
      ["server-errors", SERVER_ERROR_RESPONSE_TYPES, "failed in the storage service", CLOUD_ALARMS.objectStorageServerErrors],
    ] as const) {
      new MonitorMetricAlert(this, `${alert}-alert`, {
        name: `${props.alertPrefix}-${alert}`,
        resourceGroupName: props.resourceGroupName,
        scopes: [this.account.id],
        description: `More than ${STORAGE_ERROR_THRESHOLD} requests to ${props.application}'s storage ${what} in 15 minutes. Runbook: ${runbookUrl(runbook)}`,
        severity: 2,
        frequency: "PT5M",
        windowSize: "PT15M",
        criteria: [
          {
            metricNamespace: "Microsoft.Storage/storageAccounts",
            metricName: "Transactions",
            aggregation: "Total",
            operator: "GreaterThan",
            threshold: STORAGE_ERROR_THRESHOLD,
            dimension: [{ name: "ResponseType", operator: "Include", values: [...types] }],
          },
        ],
        action: [{ actionGroupId: props.actionGroupId }],
      });
    }

    this.children = [...children, ...this.grants];
  }

  /**
   * Production's delete lock on the account: prevent_destroy binds only this
   * state, the lock stops the portal and the CLI too. It covers everything
   * under the account, so it goes before those on a destroy: `under` adds
   * what others put there (a backup's role).
   */
  lock(under: TerraformResource[] = []): ManagementLock {
    return new ManagementLock(this, "lock", {
      name: "protect-production-objects",
      scope: this.account.id,
      lockLevel: "CanNotDelete",
      notes: "Production objects. Remove deliberately: see docs/applications.md, Object storage.",
      dependsOn: [...this.children, ...under],
    });
  }

  /** How the application finds its container. */
  endpoint(): ObjectStorageEndpoint {
    return {
      provider: "azure-blob",
      bucket: this.container.name,
      endpoint: this.account.primaryBlobEndpoint,
      settings: { AZURE_STORAGE_ACCOUNT: this.account.name },
      // Blob storage and Microsoft Entra ID's token endpoint, both over HTTPS.
      egress: [{ cidr: "0.0.0.0/0", port: 443 }],
    };
  }
}
