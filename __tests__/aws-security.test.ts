import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App, DefaultTokenResolver, StringConcat, TerraformStack, Tokenization } from "cdktf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config";
import { EncryptionKey, KEY_ADMINISTRATION_ACTIONS } from "../constructs/aws/kms-key";
import { buildPlatform } from "../stacks/app";
import { skipNote } from "./support/environment";
import { sharedOfflinePlans } from "./support/offline-plans";
import { offlineTerraform, type OfflinePlanResult } from "./support/offline-terraform";
import { problemOf } from "./support/config-problems";

/** Actions that read or write data under a key: never granted without naming who, or through which service. */
const USE_ACTION = /^kms:(Encrypt|Decrypt|ReEncrypt|GenerateDataKey|\*)/;

interface ResolvedStatement {
  Sid: string;
  Principal: { AWS?: string; Service?: string };
  Action: string[];
  Condition?: Record<string, Record<string, string>>;
}

describe("KMS key policies", () => {
  let outdir: string;
  /** Resolved statements of every key, by `<stack>/<key id>`. */
  const policies: Record<string, ResolvedStatement[]> = {};

  beforeAll(() => {
    outdir = mkdtempSync(path.join(tmpdir(), "key-policies-"));
    const app = new App({ outdir });
    buildPlatform(app, loadConfig());
    for (const construct of app.node.findAll()) {
      if (!(construct instanceof EncryptionKey)) continue;
      const stack = TerraformStack.of(construct);
      const resolver = new DefaultTokenResolver(new StringConcat());
      // The key's path inside its stack: `cluster-key`, `log-bucket/key`.
      const inStack = construct.node.path.split("/").slice(stack.node.path.split("/").length).join("/");
      policies[`${stack.node.id}/${inStack}`] = Tokenization.resolve(construct.policyStatements, { scope: construct, resolver, preparing: false });
    }
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  const statement = (key: string, sid: string) => {
    const found = policies[key].find((s) => s.Sid === sid);
    if (!found) throw new Error(`${key} has no statement ${sid}; it has ${policies[key].map((s) => s.Sid).join(", ")}`);
    return found;
  };

  it.each(["develop", "staging", "production"])("%s: only web's role (and in production AWS Backup's) may use web's bucket key, and only through S3", (env) => {
    const statements = policies[`aws-${env}-data/objects-web/key`];
    const users = statements.filter((s) => s.Action.some((action) => USE_ACTION.test(action)));
    expect(users.map((s) => s.Sid)).toEqual(env === "production" ? ["ApplicationUsesKeyThroughS3", "AwsBackupUsesKeyThroughS3"] : ["ApplicationUsesKeyThroughS3"]);
    for (const use of users) expect(use.Condition).toEqual({ StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } });
    expect(users[0].Principal).toEqual({ AWS: expect.stringMatching(/^\$\{aws_iam_role\.app-web-role_\w+\.arn\}$/) });
  });

  it("every key of the default program has a policy", () => {
    expect(Object.keys(policies).sort()).toEqual([
      "aws-bootstrap/state/key",
      "aws-develop-data/backup-key",
      "aws-develop-data/database-key",
      "aws-develop-data/objects-web/key",
      "aws-platform/cluster-key",
      "aws-platform/external-monitoring/key",
      "aws-platform/flow-logs-key",
      "aws-platform/log-bucket/key",
      "aws-platform/registry-key",
      "aws-production-data/backup-key",
      "aws-production-data/database-key",
      "aws-production-data/objects-web/key",
      "aws-staging-data/backup-key",
      "aws-staging-data/database-key",
      "aws-staging-data/objects-web/key",
    ]);
  });

  it("the account administers every key but cannot use one through IAM alone", () => {
    for (const [key, statements] of Object.entries(policies)) {
      const admin = statements[0];
      expect(admin.Sid, key).toBe("KeyAdministration");
      expect(admin.Principal.AWS, key).toMatch(/^arn:\$\{element\(split\(":", aws_kms_key\.[\w-]+\.arn\), 1\)\}:iam::\$\{.*\}:root$/);
      expect(admin.Action).toEqual(KEY_ADMINISTRATION_ACTIONS);
      expect(admin.Action.filter((action) => USE_ACTION.test(action)), key).toEqual([]);
    }
  });

  it("grants use to the account's principals only through a named service, never to everyone", () => {
    for (const [key, statements] of Object.entries(policies)) {
      for (const s of statements.slice(1)) {
        expect(s.Principal.AWS ?? s.Principal.Service, `${key} ${s.Sid}`).not.toBe("*");
        if (s.Principal.AWS?.endsWith(":root")) {
          expect(s.Condition?.StringEquals?.["kms:ViaService"], `${key} ${s.Sid}`).toMatch(/^[a-z0-9]+\.eu-west-1\.amazonaws\.com$/);
        }
      }
    }
  });

  it("names the services each key serves, and no other", () => {
    const services = (key: string) => policies[key].map((s) => s.Condition?.StringEquals?.["kms:ViaService"]).filter(Boolean);
    expect(services("aws-platform/cluster-key")).toEqual([]);
    expect(services("aws-platform/registry-key")).toEqual(["ecr.eu-west-1.amazonaws.com"]);
    expect(services("aws-production-data/database-key")).toEqual([
      "rds.eu-west-1.amazonaws.com",
      "secretsmanager.eu-west-1.amazonaws.com",
      "secretsmanager.eu-west-1.amazonaws.com",
    ]);
    expect(services("aws-production-data/backup-key")).toEqual(["backup.eu-west-1.amazonaws.com", "sns.eu-west-1.amazonaws.com"]);
  });

  it("gives the EKS cluster role the secrets key, by name", () => {
    expect(statement("aws-platform/cluster-key", "EksClusterRole")).toMatchObject({
      Principal: { AWS: expect.stringMatching(/^\$\{aws_iam_role\.eks_cluster-role_\w+\.arn\}$/) },
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ListGrants"],
    });
  });

  it.each(["develop", "staging", "production"])("gives the %s application role decryption of its database secret only", (env) => {
    expect(statement(`aws-${env}-data/database-key`, "ApplicationReadsDatabaseSecret")).toEqual({
      Sid: "ApplicationReadsDatabaseSecret",
      Effect: "Allow",
      Principal: { AWS: expect.stringMatching(/^\$\{aws_iam_role\.app-role_\w+\.arn\}$/) },
      Action: ["kms:Decrypt"],
      Resource: "*",
      Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } },
    });
  });

  it("lets AWS Backup publish to the encrypted notification topic", () => {
    expect(statement("aws-production-data/backup-key", "AwsBackupPublishesNotifications")).toMatchObject({
      Principal: { Service: "backup.amazonaws.com" },
      Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
    });
  });

  it("lets CloudWatch Logs use the flow-logs key for the flow-log group only", () => {
    expect(statement("aws-platform/flow-logs-key", "CloudWatchLogsFlowLogs")).toMatchObject({
      Principal: { Service: "logs.eu-west-1.amazonaws.com" },
      Condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": expect.stringMatching(/:logs:eu-west-1:.*:log-group:\/vpc\/acme-platform\/flow-logs$/) } },
    });
  });
});

describe("flow-log retention config", () => {
  it("rejects a retention CloudWatch Logs does not offer, naming the field and the allowed values", () => {
    const problem = problemOf((r) => (r.clouds.aws.network.flowLogRetentionDays = 100));
    expect(problem.path).toBe("clouds.aws.network.flowLogRetentionDays");
    expect(problem.value).toBe(100);
    expect(problem.message).toMatch(/^one of CloudWatch Logs' retention periods: 1, 3, 5, .*, 365, .*, 3653$/);
  });
});

const terraform = offlineTerraform();

/** Planned changes of every managed resource of a type. */
function changes(plan: any, type: string): any[] {
  return (plan.resource_changes ?? []).filter((c: any) => c.mode === "managed" && c.type === type).map((c: any) => c.change);
}

describe.skipIf(!terraform.available)(`security baseline in the offline AWS plans${skipNote(terraform)}`, () => {
  let plans: Record<string, OfflinePlanResult>;
  beforeAll(() => {
    ({ plans } = sharedOfflinePlans());
  });

  it("manages the VPC's default security group with no rule at all", () => {
    const [group] = changes(plans["aws-platform"].plan, "aws_default_security_group");
    expect(group.after.ingress ?? []).toEqual([]);
    expect(group.after.egress ?? []).toEqual([]);
    expect(group.after_unknown.vpc_id).toBe(true);
  });

  it("logs every VPC flow to a KMS-encrypted log group kept a year", () => {
    const [flowLog] = changes(plans["aws-platform"].plan, "aws_flow_log");
    expect(flowLog.after).toMatchObject({ traffic_type: "ALL", log_destination_type: "cloud-watch-logs", max_aggregation_interval: 60 });
    expect(flowLog.after_unknown).toMatchObject({ vpc_id: true, log_destination: true, iam_role_arn: true });
    const [group] = changes(plans["aws-platform"].plan, "aws_cloudwatch_log_group").filter((g: any) => g.after.name.startsWith("/vpc/"));
    expect(group.after).toMatchObject({ name: "/vpc/acme-platform/flow-logs", retention_in_days: 365 });
    expect(group.after_unknown.kms_key_id).toBe(true);
  });

  it.each(["develop", "staging", "production"])("encrypts the %s backup notification topic with the backup key", (env) => {
    const [topic] = changes(plans[`aws-${env}-data`].plan, "aws_sns_topic");
    expect(topic.after_unknown.kms_master_key_id).toBe(true);
  });

  it("turns on Enhanced Monitoring with its own role in production only", () => {
    const [production] = changes(plans["aws-production-data"].plan, "aws_db_instance");
    expect(production.after.monitoring_interval).toBe(60);
    expect(production.after_unknown.monitoring_role_arn).toBe(true);
    const roles = changes(plans["aws-production-data"].plan, "aws_iam_role").map((role) => role.after.name);
    expect(roles).toContain("acme-production-rds-monitoring");
    for (const env of ["develop", "staging"]) {
      const [db] = changes(plans[`aws-${env}-data`].plan, "aws_db_instance");
      expect(db.after.monitoring_interval).toBe(0);
      expect(changes(plans[`aws-${env}-data`].plan, "aws_iam_role").map((role) => role.after.name)).not.toContain(`acme-${env}-rds-monitoring`);
    }
  });

  it("plans one key policy per key", () => {
    const count = (id: string, type: string) => changes(plans[id].plan, type).length;
    for (const id of ["aws-platform", "aws-develop-data", "aws-staging-data", "aws-production-data"]) {
      expect(count(id, "aws_kms_key_policy"), id).toBe(count(id, "aws_kms_key"));
    }
  });
});
