import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { guardPlan, notAPlan, protectedChanges, protectedTypeNames, protectionReason } from "../tools/destroy-guard";
import { addressOf, deriveActions, planOfStack } from "./support/derived-plans";
import { skipNote, tsxScript } from "./support/environment";
import { sharedOfflinePlans } from "./support/offline-plans";
import { offlineTerraform } from "./support/offline-terraform";
import { synthesize, type Synthesized } from "./support/synth";

const terraform = offlineTerraform();

describe("protected resource types", () => {
  // The list itself is the guard's; docs/workflows.md's table is kept equal to it (docs-map.test.ts).
  it.each(protectedTypeNames())("%s: the reason says what it is and what its loss costs", (type) => {
    expect(protectionReason(type.replace(/\*$/, "example"))).toMatch(/^(a|an|the) [^:]+: \S.{10,}$/);
  });

  it("protects a database with the reason the message prints", () => {
    expect(protectionReason("aws_db_instance")).toBe("a database: destroying it loses its data");
  });

  it("protects a new member of a family named by prefix", () => {
    expect(protectionReason("azurerm_data_protection_backup_instance_disk")).toBe("a backup instance: without it the database is not backed up");
    expect(protectionReason("azurerm_data_protection_backup_policy_disk")).toBe("a backup policy: without it no recovery points are taken");
  });

  it("protects every type the program keeps from deletion with prevent_destroy", () => {
    const synth = synthesize();
    const kept = new Set<string>();
    for (const id of Object.keys(synth.manifest.stacks)) {
      for (const [type, resources] of Object.entries<Record<string, any>>(synth.stack(id).resource ?? {})) {
        if (Object.values(resources).some((resource) => resource.lifecycle?.prevent_destroy === true)) kept.add(type);
      }
    }
    expect(kept.size).toBeGreaterThan(10);
    expect([...kept].filter((type) => protectionReason(type) === undefined)).toEqual([]);
  });

  it.each([
    "aws_subnet",
    "aws_iam_role",
    "aws_kms_alias",
    "aws_db_parameter_group",
    "aws_eks_node_group",
    "azurerm_kubernetes_cluster_node_pool",
    "azurerm_postgresql_flexible_server_configuration",
    "azurerm_role_assignment",
    "aws_route53_record",
    "azurerm_dns_a_record",
    "helm_release",
  ])("%s is not protected", (type) => {
    expect(protectionReason(type)).toBeUndefined();
  });
});

/**
 * The offline mirror holds no azurerm provider, so the Azure stacks' plans are
 * derived from their synthesized resources: the addresses a real plan of the
 * stack would carry, every one deleted or replaced.
 */
describe("destroy guard on the synthesized Azure stacks", () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize();
  });
  afterAll(() => synth?.cleanup());

  const protectedTypes = (stack: string): string[] =>
    [...new Set(protectedChanges(planOfStack(synth.stack(stack), "delete")).map((c) => c.type))].sort();

  it("deleting every resource of azure-production-data trips on its database, password, backups, object storage, resource group and locks and nothing else", () => {
    expect(protectedTypes("azure-production-data")).toEqual([
      "azurerm_data_protection_backup_instance_blob_storage",
      "azurerm_data_protection_backup_instance_postgresql_flexible_server",
      "azurerm_data_protection_backup_policy_blob_storage",
      "azurerm_data_protection_backup_policy_postgresql_flexible_server",
      "azurerm_data_protection_backup_vault",
      "azurerm_key_vault_secret",
      "azurerm_management_lock",
      "azurerm_postgresql_flexible_server",
      "azurerm_postgresql_flexible_server_database",
      "azurerm_resource_group",
      "azurerm_storage_account",
      "azurerm_storage_container",
    ]);
  });

  it("deleting every resource of azure-platform trips on its registry, key vault, cluster, DNS zone, log storage and resource group and nothing else", () => {
    expect(protectedTypes("azure-platform")).toEqual([
      "azurerm_container_registry",
      "azurerm_dns_zone",
      "azurerm_key_vault",
      "azurerm_kubernetes_cluster",
      "azurerm_resource_group",
      "azurerm_storage_account",
      "azurerm_storage_container",
    ]);
  });

  it("a replaced database administrator password secret fails, naming it and why", () => {
    const plan = planOfStack(synth.stack("azure-production-data"), "replace");
    plan.resource_changes = plan.resource_changes.filter((c: any) => c.type === "azurerm_key_vault_secret");
    const secret = addressOf(plan, "azurerm_key_vault_secret");
    expect(guardPlan("azure-production-data", plan)).toMatchObject({
      ok: false,
      message: [
        "azure-production-data: the plan deletes or replaces 1 protected resource:",
        `  - ${secret} would be replaced: a key vault secret: its value (a generated database password) is kept nowhere else; on a shared server it stands for an environment's database`,
        "If this is intended, add the label 'allow-destroy' to the pull request (or pass --allow-destroy).",
      ].join("\n"),
    });
  });

  it("a deleted delete lock of production's data fails, naming it and why", () => {
    const plan = planOfStack(synth.stack("azure-production-data"), "delete");
    // Production has two locks, on the server and on the backup instance; one is enough to fail.
    plan.resource_changes = plan.resource_changes.filter((c: any) => c.address === "azurerm_management_lock.server-lock");
    const lock = addressOf(plan, "azurerm_management_lock");
    const result = guardPlan("azure-production-data", plan);
    expect(result.ok).toBe(false);
    expect(result.message).toContain(`  - ${lock} would be deleted: a delete lock: without it Azure no longer refuses to delete what it locks`);
  });

  it("a deleted data resource group fails, naming it and why", () => {
    const plan = planOfStack(synth.stack("azure-production-data"), "delete");
    plan.resource_changes = plan.resource_changes.filter((c: any) => c.type === "azurerm_resource_group");
    const group = addressOf(plan, "azurerm_resource_group");
    expect(guardPlan("azure-production-data", plan)).toMatchObject({
      ok: false,
      changes: [{ address: group, type: "azurerm_resource_group", action: "delete" }],
    });
    expect(guardPlan("azure-production-data", plan).message).toContain(
      `  - ${group} would be deleted: a resource group: deleting it deletes every resource in it, also those Terraform does not manage`,
    );
  });
});

describe.skipIf(!terraform.available)(`destroy guard on real offline plans${skipNote(terraform)}`, () => {
  let plan: any;
  let workdir: string;

  beforeAll(() => {
    plan = sharedOfflinePlans().plans["aws-production-data"].plan;
    workdir = mkdtempSync(path.join(tmpdir(), "destroy-guard-"));
  });
  afterAll(() => {
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  const guardCli = (file: string, ...flags: string[]) =>
    spawnSync(process.execPath, tsxScript("scripts/destroy-guard.ts", ...flags, file), {
      encoding: "utf8",
    });

  it("derived from the real plan: deleting every resource of aws-production-data trips on its database, bucket, backups, vault lock and keys and nothing else", () => {
    const deleteAll = deriveActions(plan, Object.fromEntries(plan.resource_changes.filter((c: any) => c.mode === "managed").map((c: any) => [c.address, "delete"])));
    expect([...new Set(protectedChanges(deleteAll).map((c) => c.type))].sort()).toEqual([
      "aws_backup_plan",
      "aws_backup_selection",
      "aws_backup_vault",
      "aws_backup_vault_lock_configuration",
      "aws_db_instance",
      "aws_kms_key",
      "aws_s3_bucket",
    ]);
  });

  it("passes the real create-only plan of aws-production-data", () => {
    expect(guardPlan("aws-production-data", plan)).toEqual({
      ok: true,
      changes: [],
      message: "aws-production-data: no protected resource is deleted or replaced",
    });
  });

  it("derived from the real plan: fails on a replaced database and a deleted backup vault, naming each and why", () => {
    const db = addressOf(plan, "aws_db_instance");
    const vault = addressOf(plan, "aws_backup_vault");
    const result = guardPlan("aws-production-data", deriveActions(plan, { [db]: "replace", [vault]: "delete" }));
    expect(result.ok).toBe(false);
    expect(result.message).toBe(
      [
        "aws-production-data: the plan deletes or replaces 2 protected resources:",
        `  - ${vault} would be deleted: a backup vault: destroying it loses the recovery points`,
        `  - ${db} would be replaced: a database: destroying it loses its data`,
        "If this is intended, add the label 'allow-destroy' to the pull request (or pass --allow-destroy).",
      ].join("\n"),
    );
  });

  it("derived from the real plan: fails on a deleted backup vault lock, naming it and why", () => {
    const lock = addressOf(plan, "aws_backup_vault_lock_configuration");
    const result = guardPlan("aws-production-data", deriveActions(plan, { [lock]: "delete" }));
    expect(result).toMatchObject({ ok: false, changes: [{ address: lock, type: "aws_backup_vault_lock_configuration", action: "delete" }] });
    expect(result.message).toContain(`  - ${lock} would be deleted: a backup vault lock: without it recovery points can be deleted before their retention ends`);
  });

  it("derived from the real plan: passes the same plan with the override, still listing what goes", () => {
    const db = addressOf(plan, "aws_db_instance");
    const result = guardPlan("aws-production-data", deriveActions(plan, { [db]: "replace" }), { allowDestroy: true });
    expect(result).toMatchObject({ ok: true, changes: [{ address: db, type: "aws_db_instance", action: "replace" }] });
    expect(result.message).toBe(
      `aws-production-data: allowed by the 'allow-destroy' override:\n  - ${db} would be replaced: a database: destroying it loses its data`,
    );
  });

  it("derived from the real plan: deleting unprotected resources and updating a protected one passes", () => {
    const derived = deriveActions(plan, {
      [addressOf(plan, "aws_sns_topic")]: "delete",
      [addressOf(plan, "aws_db_parameter_group")]: "replace",
      [addressOf(plan, "aws_db_instance")]: "update",
    });
    expect(guardPlan("aws-production-data", derived)).toMatchObject({ ok: true, changes: [] });
  });

  it("the CLI exits 1 with the message on a derived destroy plan and 0 with --allow-destroy", () => {
    const key = plan.resource_changes.find((c: any) => c.type === "aws_kms_key").address;
    const file = path.join(workdir, "aws-production-data.plan.json");
    writeFileSync(file, JSON.stringify(deriveActions(plan, { [key]: "delete" })));
    const refused = guardCli(file);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`  - ${key} would be deleted: an encryption key: data and backups encrypted with it become unreadable`);
    const allowed = guardCli(file, "--allow-destroy");
    expect(allowed.status).toBe(0);
    expect(allowed.stdout).toContain("aws-production-data: allowed by the 'allow-destroy' override:");
  });

  it("the CLI exits 0 on the real create-only plan", () => {
    const file = path.join(workdir, "real.plan.json");
    writeFileSync(file, JSON.stringify(plan));
    const result = guardCli(file, "--stack", "aws-production-data");
    expect({ status: result.status, stdout: result.stdout.trim() }).toEqual({ status: 0, stdout: "aws-production-data: no protected resource is deleted or replaced" });
  });
});

describe("destroy guard input", () => {
  /** The smallest document `terraform show -json <planfile>` writes. */
  const emptyPlan = { format_version: "1.2", terraform_version: "1.11.4", planned_values: { root_module: {} } };
  let workdir: string;
  beforeAll(() => {
    workdir = mkdtempSync(path.join(tmpdir(), "destroy-guard-input-"));
  });
  afterAll(() => rmSync(workdir, { recursive: true, force: true }));

  it("is a plan when it has a format version, a Terraform version and planned values", () => {
    expect(notAPlan(emptyPlan)).toBeUndefined();
    expect(notAPlan({ ...emptyPlan, resource_changes: [{ address: "a.b", type: "a", change: { actions: ["create"] } }] })).toBeUndefined();
    // What the deploy workflow uploads: the plan cut down by jq to what the guard and the summary read.
    expect(notAPlan({ format_version: "1.2", terraform_version: "1.11.4", resource_changes: [{ address: "a.b", mode: "managed", type: "a", name: "b", change: { actions: ["delete"] } }] })).toBeUndefined();
  });

  it.each([
    ["an empty object", {}, "is not a Terraform plan: it has no format_version, terraform_version, planned_values or resource_changes"],
    ["a list", [], "is a list, not a Terraform plan"],
    ["a synthesized cdk.tf.json", { terraform: {}, provider: {}, resource: { aws_db_instance: {} } }, "is Terraform configuration (a synthesized cdk.tf.json), not a plan"],
    ["a state", { format_version: "1.0", terraform_version: "1.11.4", values: {} }, "it has no planned_values or resource_changes"],
    ["changes that are not a list", { ...emptyPlan, resource_changes: {} }, "has resource_changes that are not a list"],
    ["a change without actions", { ...emptyPlan, resource_changes: [{ address: "a.b", type: "a", change: {} }] }, "has a resource_changes[0] without address, type or change.actions"],
  ])("is refused when it is %s", (_name, value, reason) => {
    expect(notAPlan(value)).toContain(reason);
  });

  const cli = (...args: string[]) => spawnSync(process.execPath, tsxScript("scripts/destroy-guard.ts", ...args), { encoding: "utf8" });

  // Each run starts a TypeScript process: two cover reading and checking; notAPlan above covers the rest.
  it.each([
    ["a missing file", () => path.join(workdir, "missing.json"), (file: string) => `destroy-guard: cannot read ${file}: no such file`],
    ["a cdk.tf.json", () => write("cdk.tf.json", JSON.stringify({ terraform: {}, resource: {} })), (file: string) => `destroy-guard: ${file} is Terraform configuration (a synthesized cdk.tf.json), not a plan: run terraform plan -out, then terraform show -json on the plan file`],
  ])("the CLI on %s: one line, exit 2, no stack trace", (_name, file, message) => {
    const path = file();
    const result = cli(path);
    expect({ status: result.status, stderr: result.stderr.trim().split("\n") }).toEqual({ status: 2, stderr: [message(path)] });
  });

  function write(name: string, text: string): string {
    const file = path.join(workdir, name);
    writeFileSync(file, text);
    return file;
  }
});
