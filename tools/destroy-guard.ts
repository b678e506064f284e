/**
 * Refuses plans that delete or replace resources whose loss cannot be undone
 * by re-applying: data, backups, encryption keys, generated secrets, images,
 * the buckets and storage accounts that hold state and logs, the resource
 * groups that hold them, the cluster that runs everything and
 * the public DNS zone the registrar delegates to; also the locks whose removal
 * is the first step to losing data, so that removing one takes the same
 * explicit override. Other deletions (subnets,
 * roles, releases) are ordinary changes and pass.
 */

/** Why each protected resource type is protected, by exact type. */
const PROTECTED_TYPES: Record<string, string> = {
  aws_db_instance: "a database: destroying it loses its data",
  aws_rds_cluster: "a database cluster: destroying it loses its data",
  azurerm_postgresql_flexible_server: "a database server: destroying it loses its data",
  azurerm_postgresql_flexible_server_database: "a database: destroying it loses its data",
  aws_backup_vault: "a backup vault: destroying it loses the recovery points",
  aws_backup_plan: "a backup plan: without it no recovery points are taken",
  aws_backup_selection: "a backup selection: without it the database is not backed up",
  aws_backup_vault_lock_configuration: "a backup vault lock: without it recovery points can be deleted before their retention ends",
  azurerm_data_protection_backup_vault: "a backup vault: destroying it loses the recovery points",
  aws_ecr_repository: "a container registry: destroying it deletes every image the environments run",
  azurerm_container_registry: "a container registry: destroying it deletes every image the environments run",
  aws_kms_key: "an encryption key: data and backups encrypted with it become unreadable",
  azurerm_key_vault: "a key vault: its keys and secrets go with it",
  azurerm_key_vault_key: "an encryption key: data and backups encrypted with it become unreadable",
  azurerm_key_vault_secret: "a key vault secret: its value (the database administrator password) is kept nowhere else",
  azurerm_resource_group: "a resource group: deleting it deletes every resource in it, also those Terraform does not manage",
  azurerm_management_lock: "a delete lock: without it Azure no longer refuses to delete what it locks",
  aws_eks_cluster: "the Kubernetes cluster: every workload and in-cluster stack runs on it",
  azurerm_kubernetes_cluster: "the Kubernetes cluster: every workload and in-cluster stack runs on it",
  aws_s3_bucket: "an S3 bucket: destroying it loses its objects (every stack's Terraform state, the log store's chunks)",
  azurerm_storage_account: "a storage account: destroying it loses its blobs (every stack's Terraform state, the log store's chunks)",
  azurerm_storage_container: "a storage container: destroying it loses its blobs (every stack's Terraform state, the log store's chunks)",
  aws_route53_zone: "the public DNS zone: a new zone gets new name servers, and every route is unreachable until the registrar delegates to them",
  azurerm_dns_zone: "the public DNS zone: a new zone gets new name servers, and every route is unreachable until the registrar delegates to them",
};

/**
 * Families of resource types named by prefix: Azure Backup has one resource
 * type per kind of resource it backs up (`..._postgresql_flexible_server`,
 * `..._disk`, `..._blob_storage`, ...).
 */
const PROTECTED_PREFIXES: [string, string][] = [
  ["azurerm_data_protection_backup_policy_", "a backup policy: without it no recovery points are taken"],
  ["azurerm_data_protection_backup_instance_", "a backup instance: without it the database is not backed up"],
];

/** Why a resource type is protected, or undefined when it is not. */
export function protectionReason(type: string): string | undefined {
  return PROTECTED_TYPES[type] ?? PROTECTED_PREFIXES.find(([prefix]) => type.startsWith(prefix))?.[1];
}

export interface ProtectedChange {
  readonly address: string;
  readonly type: string;
  readonly action: "delete" | "replace";
  readonly reason: string;
}

/** The part of `terraform show -json` output the guard and the summarizer read. */
export interface PlanJson {
  readonly resource_changes?: readonly {
    readonly address: string;
    readonly mode: string;
    readonly type: string;
    readonly change: { readonly actions: readonly string[] };
  }[];
}

/** Deletions and replacements of protected resources in a plan. */
export function protectedChanges(plan: PlanJson): ProtectedChange[] {
  const found: ProtectedChange[] = [];
  for (const change of plan.resource_changes ?? []) {
    if (change.mode !== "managed" || !change.change.actions.includes("delete")) continue;
    const reason = protectionReason(change.type);
    if (!reason) continue;
    const action = change.change.actions.includes("create") ? "replace" : "delete";
    found.push({ address: change.address, type: change.type, action, reason });
  }
  return found;
}

export const OVERRIDE_LABEL = "allow-destroy";

export interface GuardResult {
  readonly ok: boolean;
  readonly changes: ProtectedChange[];
  readonly message: string;
}

/**
 * The guard's verdict on one stack's plan. With `allowDestroy` (the pull
 * request carries the override label) protected changes are listed but pass.
 */
export function guardPlan(stack: string, plan: PlanJson, options: { readonly allowDestroy?: boolean } = {}): GuardResult {
  const changes = protectedChanges(plan);
  if (changes.length === 0) return { ok: true, changes, message: `${stack}: no protected resource is deleted or replaced` };
  const lines = changes.map((c) => `  - ${c.address} would be ${c.action === "replace" ? "replaced" : "deleted"}: ${c.reason}`);
  if (options.allowDestroy) {
    return { ok: true, changes, message: [`${stack}: allowed by the '${OVERRIDE_LABEL}' override:`, ...lines].join("\n") };
  }
  return {
    ok: false,
    changes,
    message: [
      `${stack}: the plan deletes or replaces ${changes.length} protected resource${changes.length === 1 ? "" : "s"}:`,
      ...lines,
      `If this is intended, add the label '${OVERRIDE_LABEL}' to the pull request (or pass --allow-destroy).`,
    ].join("\n"),
  };
}
