/**
 * Refuses plans that delete or replace resources whose loss cannot be undone
 * by re-applying: data (databases, buckets, storage accounts), backups,
 * encryption keys, generated secrets (on a shared database server, an
 * environment's secret stands for its database, which only SQL drops), images,
 * the buckets and storage accounts that hold state and logs, the resource
 * groups that hold them, the cluster that runs everything and
 * the public DNS zone the registrar delegates to; also the locks whose removal
 * is the first step to losing data, so that removing one takes the same
 * explicit override. Other deletions (subnets,
 * roles, releases) are ordinary changes and pass, except changes to a Helm
 * release that delete the Flux CRDs (tools/flux-guard.ts).
 */
import { fluxCrdLoss } from "./flux-guard";

/** Why each protected resource type is protected, by exact type. */
const PROTECTED_TYPES: Record<string, string> = {
  aws_db_instance: "a database: destroying it loses its data",
  aws_rds_cluster: "a database cluster: destroying it loses its data",
  azurerm_postgresql_flexible_server: "a database server: destroying it loses its data",
  azurerm_postgresql_flexible_server_database: "a database: destroying it loses its data",
  aws_backup_vault: "a backup vault: destroying it loses the recovery points",
  aws_backup_plan: "a backup plan: without it no recovery points are taken",
  aws_backup_selection: "a backup selection: without it the database or bucket is not backed up",
  aws_backup_vault_lock_configuration: "a backup vault lock: without it recovery points can be deleted before their retention ends",
  azurerm_data_protection_backup_vault: "a backup vault: destroying it loses the recovery points",
  aws_ecr_repository: "a container registry: destroying it deletes every image the environments run",
  azurerm_container_registry: "a container registry: destroying it deletes every image the environments run",
  aws_kms_key: "an encryption key: data and backups encrypted with it become unreadable",
  azurerm_key_vault: "a key vault: its keys and secrets go with it",
  azurerm_key_vault_key: "an encryption key: data and backups encrypted with it become unreadable",
  azurerm_key_vault_secret: "a key vault secret: its value (a generated database password) is kept nowhere else; on a shared server it stands for an environment's database",
  aws_secretsmanager_secret: "a generated secret: its value (a database role's password) is kept nowhere else; on a shared server it stands for an environment's database",
  azurerm_data_protection_backup_instance_blob_storage: "a backup instance: without it the storage account's objects are not backed up",
  azurerm_resource_group: "a resource group: deleting it deletes every resource in it, also those Terraform does not manage",
  azurerm_management_lock: "a delete lock: without it Azure no longer refuses to delete what it locks",
  aws_eks_cluster: "the Kubernetes cluster: every workload and in-cluster stack runs on it",
  azurerm_kubernetes_cluster: "the Kubernetes cluster: every workload and in-cluster stack runs on it",
  aws_s3_bucket: "an S3 bucket: destroying it loses its objects (an application's files, every stack's Terraform state, the log store's chunks)",
  azurerm_storage_account: "a storage account: destroying it loses its blobs (an application's files, every stack's Terraform state, the log store's chunks)",
  azurerm_storage_container: "a storage container: destroying it loses its blobs (an application's files, every stack's Terraform state, the log store's chunks)",
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

/**
 * Every protected type, a family named by its prefix and `*`
 * (`azurerm_data_protection_backup_policy_*`): what docs/workflows.md lists.
 */
export function protectedTypeNames(): string[] {
  return [...Object.keys(PROTECTED_TYPES), ...PROTECTED_PREFIXES.map(([prefix]) => `${prefix}*`)].sort();
}

/** Why a resource type is protected, or undefined when it is not. */
export function protectionReason(type: string): string | undefined {
  return PROTECTED_TYPES[type] ?? PROTECTED_PREFIXES.find(([prefix]) => type.startsWith(prefix))?.[1];
}

export interface ProtectedChange {
  readonly address: string;
  readonly type: string;
  /** `update`: an in-place change that deletes what the release installed (the Flux CRDs). */
  readonly action: "delete" | "replace" | "update";
  readonly reason: string;
}

/** How a protected change reads in a sentence: "would be deleted". */
export const ACTION_VERBS: Record<ProtectedChange["action"], string> = { delete: "deleted", replace: "replaced", update: "updated" };

/** The part of `terraform show -json` output the guard and the summarizer read. */
export interface PlanJson {
  readonly resource_changes?: readonly {
    readonly address: string;
    readonly mode: string;
    readonly type: string;
    /** `before` and `after` are absent from the workflows' plan artifact, which keeps only actions. */
    readonly change: { readonly actions: readonly string[]; readonly before?: unknown; readonly after?: unknown };
  }[];
}

/** Deletions and replacements of protected resources in a plan. */
export function protectedChanges(plan: PlanJson): ProtectedChange[] {
  const found: ProtectedChange[] = [];
  for (const change of plan.resource_changes ?? []) {
    if (change.mode !== "managed") continue;
    const flux = fluxCrdLoss(change);
    if (flux) {
      found.push({ address: change.address, type: change.type, ...flux });
      continue;
    }
    if (!change.change.actions.includes("delete")) continue;
    const reason = protectionReason(change.type);
    if (!reason) continue;
    const action = change.change.actions.includes("create") ? "replace" : "delete";
    found.push({ address: change.address, type: change.type, action, reason });
  }
  return found;
}

/**
 * Why a parsed JSON document is not the `terraform show -json <planfile>`
 * output the guard reads, or undefined when it is. A plan has a
 * `format_version`, the `terraform_version` that wrote it, and
 * `planned_values` or `resource_changes` (the workflow uploads a plan cut
 * down to the latter); its `resource_changes` are changes with an address,
 * a type and a list of actions. Anything else (`{}`, a list, a synthesized
 * `cdk.tf.json`, a state) would pass the guard unread.
 */
export function notAPlan(value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return `is ${Array.isArray(value) ? "a list" : value === null ? "null" : `a ${typeof value}`}, not a Terraform plan`;
  }
  const plan = value as Record<string, unknown>;
  if ("resource" in plan && "terraform" in plan) return "is Terraform configuration (a synthesized cdk.tf.json), not a plan: run terraform plan -out, then terraform show -json on the plan file";
  const missing = ["format_version", "terraform_version"].filter((key) => !(key in plan));
  if (!("planned_values" in plan) && !("resource_changes" in plan)) missing.push("planned_values or resource_changes");
  if (missing.length > 0) return `is not a Terraform plan: it has no ${missing.join(", ")}; give the output of terraform show -json <planfile>`;
  const changes = plan.resource_changes;
  if (changes === undefined) return undefined;
  if (!Array.isArray(changes)) return "has resource_changes that are not a list";
  const bad = changes.findIndex(
    (change) => typeof change?.address !== "string" || typeof change?.type !== "string" || !Array.isArray(change?.change?.actions),
  );
  return bad >= 0 ? `has a resource_changes[${bad}] without address, type or change.actions` : undefined;
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
  const lines = changes.map((c) => `  - ${c.address} would be ${ACTION_VERBS[c.action]}: ${c.reason}`);
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
