import { beforeAll, describe, expect, it } from "vitest";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { skipNote } from "./support/environment";
import { mirrorHasProviders, offlineTerraform, planOffline, plannedTypes, TerraformFailure, type OfflinePlanResult } from "./support/offline-terraform";
import { sharedOfflinePlans } from "./support/offline-plans";
import { readManifest, type Manifest } from "./support/synth";

const terraform = offlineTerraform();
const AWS_STACKS = ["aws-bootstrap", "aws-platform", "aws-develop-data", "aws-staging-data", "aws-production-data"];

/** Planned `after` values of every managed resource of a type. */
function planned(plan: any, type: string): any[] {
  return (plan.resource_changes ?? []).filter((c: any) => c.mode === "managed" && c.type === type).map((c: any) => c.change.after);
}

describe.skipIf(!terraform.available)(`offline terraform plan (validation included) against the real AWS provider${skipNote(terraform)}`, () => {
  let outdir: string;
  let manifest: Manifest;
  let plans: Record<string, OfflinePlanResult>;

  beforeAll(() => {
    ({ outdir, plans } = sharedOfflinePlans());
    manifest = readManifest(outdir);
  });

  it("plans every stack whose providers are all in the mirror, and only those", () => {
    const plannable = Object.keys(manifest.stacks).filter((id) =>
      mirrorHasProviders(terraform.mirror!, JSON.parse(readFileSync(path.join(outdir, manifest.stacks[id].synthesizedStackPath), "utf8"))),
    );
    expect(plannable.sort()).toEqual([...AWS_STACKS].sort());
    expect(Object.keys(plans).sort()).toEqual([...AWS_STACKS].sort());
  });

  it.each(AWS_STACKS)("%s validates and plans with no error or warning", (id) => {
    expect(plans[id].diagnostics).toEqual({ error_count: 0, warning_count: 0, diagnostics: [] });
  });

  it.each(AWS_STACKS)("%s plans only creations from empty state", (id) => {
    const actions = new Set(plans[id].plan.resource_changes.map((c: any) => c.change.actions.join("+")));
    expect([...actions]).toEqual(["create"]);
  });

  it("aws-platform plans the network, the cluster, its add-ons, Karpenter's AWS side and the registry", () => {
    const types = plannedTypes(plans["aws-platform"].plan);
    expect(types).toMatchObject({
      aws_vpc: 1,
      aws_subnet: 9,
      aws_nat_gateway: 3,
      aws_eks_cluster: 1,
      aws_eks_node_group: 1,
      aws_eks_addon: 5,
      // The admins', Karpenter's nodes' and the CI roles' (plan has none).
      aws_eks_access_entry: 5,
      // Seven platform services' and the three registry webhook Jobs'.
      aws_eks_pod_identity_association: 10,
      aws_route53_zone: 1,
      aws_iam_openid_connect_provider: 1,
      aws_ecr_repository: 2,
      aws_ecr_lifecycle_policy: 2,
      // Secrets envelope, registry, log bucket, flow logs, and the alert topics' key in us-east-1.
      aws_kms_key: 5,
      aws_s3_bucket: 1,
      aws_sqs_queue: 1,
      // Karpenter's four interruption rules, the certificate check's schedule and each environment's image pushes.
      aws_cloudwatch_event_rule: 8,
      aws_cloudwatch_event_connection: 3,
      aws_default_security_group: 1,
      aws_flow_log: 1,
      // Flow logs and the certificate check's.
      aws_cloudwatch_log_group: 2,
      aws_lambda_function: 1,
      aws_lambda_permission: 1,
    });
  });

  it.each(["aws-develop-data", "aws-staging-data", "aws-production-data"])("%s plans a database, its backups, its keys and web's bucket", (id) => {
    expect(plannedTypes(plans[id].plan)).toMatchObject({
      aws_s3_bucket: 1,
      aws_eks_pod_identity_association: 1,
      aws_db_instance: 1,
      aws_db_parameter_group: 1,
      aws_db_subnet_group: 1,
      aws_backup_vault: 1,
      aws_backup_plan: 1,
      // The database's; production also backs web's bucket up (objectStorage.backup).
      aws_backup_selection: id === "aws-production-data" ? 2 : 1,
      aws_backup_vault_notifications: 1,
      aws_sns_topic: 1,
      // The database's, the backups' and web's bucket's.
      aws_kms_key: 3,
      aws_kms_key_policy: 3,
    });
  });

  it("the provider resolves the production database as protected, encrypted and private", () => {
    const [db] = planned(plans["aws-production-data"].plan, "aws_db_instance");
    expect(db).toMatchObject({
      deletion_protection: true,
      multi_az: true,
      storage_encrypted: true,
      publicly_accessible: false,
      backup_retention_period: 35,
      manage_master_user_password: true,
      iam_database_authentication_enabled: true,
      skip_final_snapshot: false,
      final_snapshot_identifier: "acme-production-final",
    });
    expect(db.password).toBeNull();
  });

  it("the provider lays out non-overlapping subnets from the VPC range", () => {
    const cidrs = planned(plans["aws-platform"].plan, "aws_subnet").map((s) => s.cidr_block);
    expect(cidrs.sort()).toEqual(
      [
        "10.40.0.0/19", "10.40.32.0/19", "10.40.64.0/19",
        "10.40.192.0/22", "10.40.196.0/22", "10.40.200.0/22",
        "10.40.224.0/22", "10.40.228.0/22", "10.40.232.0/22",
      ].sort(),
    );
  });

  it("only production plans a vault lock", () => {
    expect(plannedTypes(plans["aws-production-data"].plan).aws_backup_vault_lock_configuration).toBe(1);
    expect(plannedTypes(plans["aws-develop-data"].plan).aws_backup_vault_lock_configuration).toBeUndefined();
  });

  it("the provider resolves the backup plan into hourly, daily and monthly rules", () => {
    const [plan] = planned(plans["aws-production-data"].plan, "aws_backup_plan");
    const rules = Object.fromEntries(plan.rule.map((r: any) => [r.rule_name, r.lifecycle[0].delete_after]));
    expect(rules).toEqual({ hourly: 30, daily: 365, monthly: 2555 });
  });

  it("every planned resource that takes tags carries environment, managed-by and project", () => {
    for (const id of AWS_STACKS) {
      const environment = id === "aws-platform" ? "platform" : id.replace(/^aws-|-data$/g, "");
      for (const change of plans[id].plan.resource_changes) {
        const tags = change.change.after?.tags_all;
        if (tags === undefined) continue;
        expect({ address: change.address, tags }).toMatchObject({
          tags: { environment, "managed-by": "cdktf", project: "acme", "cost-center": "platform" },
        });
      }
    }
  });

  it("fails on what the types allow and the provider rejects (backup_retention_period = 40)", async () => {
    const stackDir = mkdtempSync(path.join(tmpdir(), "retention-40-"));
    cpSync(path.join(outdir, manifest.stacks["aws-develop-data"].workingDirectory), stackDir, { recursive: true });
    const file = path.join(stackDir, "cdk.tf.json");
    const stack = JSON.parse(readFileSync(file, "utf8"));
    const [db] = Object.values(stack.resource.aws_db_instance) as any[];
    db.backup_retention_period = 40;
    writeFileSync(file, JSON.stringify(stack));
    let failure: unknown;
    try {
      await planOffline(terraform, stackDir);
    } catch (error) {
      failure = error;
    } finally {
      rmSync(stackDir, { recursive: true, force: true });
    }
    expect(failure).toBeInstanceOf(TerraformFailure);
    expect((failure as Error).message).toMatch(/backup_retention_period/);
  });
});
