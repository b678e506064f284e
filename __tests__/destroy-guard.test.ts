import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { guardPlan, protectedChanges, protectionReason } from "../tools/destroy-guard";
import { addressOf, deriveActions } from "./support/derived-plans";
import { skipNote } from "./support/environment";
import { offlineTerraform, planOffline } from "./support/offline-terraform";
import { synthesize, type Synthesized } from "./support/synth";

const terraform = offlineTerraform();
const ROOT = path.resolve(__dirname, "..");

describe("protected resource types", () => {
  it.each([
    "aws_db_instance",
    "azurerm_postgresql_flexible_server",
    "azurerm_postgresql_flexible_server_database",
    "aws_backup_vault",
    "aws_backup_plan",
    "aws_backup_selection",
    "azurerm_data_protection_backup_vault",
    "azurerm_data_protection_backup_policy_postgresql_flexible_server",
    "azurerm_data_protection_backup_instance_postgresql_flexible_server",
    "aws_ecr_repository",
    "azurerm_container_registry",
    "aws_kms_key",
    "azurerm_key_vault",
    "azurerm_key_vault_key",
    "aws_eks_cluster",
    "azurerm_kubernetes_cluster",
  ])("%s is protected", (type) => {
    expect(protectionReason(type)).toMatch(/^(a|an|the) [a-zA-Z ]+: /);
  });

  it.each(["aws_subnet", "aws_iam_role", "aws_kms_alias", "aws_eks_node_group", "azurerm_kubernetes_cluster_node_pool", "helm_release"])(
    "%s is not protected",
    (type) => {
      expect(protectionReason(type)).toBeUndefined();
    },
  );
});

describe("destroy guard on the synthesized Azure data stack", () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize();
  });
  afterAll(() => synth?.cleanup());

  it("deleting every resource of azure-production-data trips on its database, backups and nothing else", () => {
    const stack = synth.stack("azure-production-data");
    const resource_changes = Object.entries(stack.resource ?? {}).flatMap(([type, resources]) =>
      Object.keys(resources).map((name) => ({ address: `${type}.${name}`, mode: "managed", type, change: { actions: ["delete"] } })),
    );
    const types = new Set(protectedChanges({ resource_changes }).map((c) => c.type));
    expect([...types].sort()).toEqual(
      [...new Set(resource_changes.map((c) => c.type))].filter((type) => protectionReason(type) !== undefined).sort(),
    );
    expect(types).toContain("azurerm_postgresql_flexible_server");
    expect([...types].some((type) => type.startsWith("azurerm_data_protection_backup_"))).toBe(true);
  });
});

describe.skipIf(!terraform.available)(`destroy guard on real offline plans${skipNote(terraform)}`, () => {
  let synth: Synthesized;
  let plan: any;
  let workdir: string;

  beforeAll(() => {
    synth = synthesize();
    plan = planOffline(terraform, path.join(synth.outdir, synth.manifest.stacks["aws-production-data"].workingDirectory)).plan;
    workdir = mkdtempSync(path.join(tmpdir(), "destroy-guard-"));
  });
  afterAll(() => {
    synth?.cleanup();
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  const guardCli = (file: string, ...flags: string[]) =>
    spawnSync(process.execPath, [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), path.join(ROOT, "scripts/destroy-guard.ts"), ...flags, file], {
      encoding: "utf8",
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
