import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOG_CONTAINER } from "../constructs/azure/log-store";
import { skipNote } from "./support/environment";
import { offlineTerraform, type OfflinePlanResult } from "./support/offline-terraform";
import { sharedOfflinePlans } from "./support/offline-plans";
import { onlyResource, resourcesOf, synthesize, type Synthesized, type TerraformJson } from "./support/synth";

/** Planned `after` values of every managed resource of a type. */
function planned(plan: any, type: string): any[] {
  return (plan.resource_changes ?? []).filter((c: any) => c.mode === "managed" && c.type === type).map((c: any) => ({ address: c.address, ...c.change.after }));
}

/** A `jsonencode(...)` policy as cdktf writes it (HCL object syntax), split into its statements. */
function statementsOf(expression: string): string[] {
  return expression.split(/(?=\{"Sid" = )/).slice(1);
}

describe("log storage in the synthesized platforms", () => {
  let synth: Synthesized;
  let aws: TerraformJson;
  let azure: TerraformJson;
  beforeAll(() => {
    synth = synthesize();
    aws = synth.stack("aws-platform");
    azure = synth.stack("azure-platform");
  });
  afterAll(() => synth.cleanup());

  describe("aws-platform", () => {
    it("expires Loki's chunks and index one day past the longest retention, and tidies versions and uploads", () => {
      const lifecycle = onlyResource(aws, "aws_s3_bucket_lifecycle_configuration");
      const rules = Object.fromEntries(lifecycle.rule.map((r: any) => [r.id, r]));
      expect(rules["expire-chunks"]).toMatchObject({ status: "Enabled", filter: [{ prefix: "fake/" }], expiration: [{ days: 91 }] });
      expect(rules["expire-index"]).toMatchObject({ status: "Enabled", filter: [{ prefix: "index/index_" }], expiration: [{ days: 91 }] });
      expect(rules.tidy).toMatchObject({ noncurrent_version_expiration: [{ noncurrent_days: 7 }], abort_incomplete_multipart_upload: [{ days_after_initiation: 1 }] });
      expect(onlyResource(aws, "aws_s3_bucket_versioning").versioning_configuration).toEqual({ status: "Enabled" });
    });

    it("blocks public access, turns ACLs off and encrypts with the bucket's own key", () => {
      expect(onlyResource(aws, "aws_s3_bucket_public_access_block")).toMatchObject({
        block_public_acls: true,
        block_public_policy: true,
        ignore_public_acls: true,
        restrict_public_buckets: true,
      });
      expect(onlyResource(aws, "aws_s3_bucket_ownership_controls").rule.object_ownership).toBe("BucketOwnerEnforced");
      const [rule] = onlyResource(aws, "aws_s3_bucket_server_side_encryption_configuration").rule;
      expect(rule.apply_server_side_encryption_by_default.sse_algorithm).toBe("aws:kms");
      expect(rule.apply_server_side_encryption_by_default.kms_master_key_id).toMatch(/aws_kms_key\.log-bucket_key_[A-F0-9]+\.arn/);
    });

    it("refuses requests without TLS 1.2", () => {
      const statements = statementsOf(onlyResource(aws, "aws_s3_bucket_policy").policy);
      expect(statements).toHaveLength(2);
      expect(statements[0]).toContain('"Effect" = "Deny", "Principal" = {"AWS" = "*"}, "Action" = "s3:*"');
      expect(statements[0]).toContain('"Condition" = {"Bool" = {"aws:SecureTransport" = "false"}}');
      expect(statements[1]).toContain('"Condition" = {"NumericLessThan" = {"s3:TlsVersion" = "1.2"}}');
    });

    it("lets only Loki's role use the key, and only through S3; the account keeps administration alone", () => {
      const keyPolicy = Object.entries(resourcesOf(aws, "aws_kms_key_policy")).find(([id]) => id.startsWith("log-bucket"))![1];
      expect(keyPolicy.key_id).toMatch(/aws_kms_key\.log-bucket_key_[A-F0-9]+\.key_id/);
      const [admin, use, ...rest] = statementsOf(keyPolicy.policy);
      expect(rest).toEqual([]);
      expect(admin).toContain('"Sid" = "KeyAdministration"');
      expect(admin).toMatch(/:root"/);
      expect(admin).not.toMatch(/kms:(Encrypt|Decrypt|GenerateDataKey|ReEncrypt)|"kms:\*"/);
      expect(use).toContain('"Sid" = "LogStoreUsesKeyThroughS3"');
      expect(use).toMatch(/"Principal" = \{"AWS" = aws_iam_role\.eks_loki_role_[A-F0-9]+\.arn\}/);
      expect(use).toContain('"Action" = ["kms:Decrypt", "kms:GenerateDataKey"]');
      expect(use).toContain('"Condition" = {"StringEquals" = {"kms:ViaService" = "s3.eu-west-1.amazonaws.com"}}');
    });

    it("gives Loki's service account, through Pod Identity, a role on that bucket and key only", () => {
      const association = Object.values(resourcesOf(aws, "aws_eks_pod_identity_association")).find((a: any) => a.service_account === "loki");
      expect(association).toMatchObject({ namespace: "monitoring", service_account: "loki" });
      const rolePolicy = Object.entries(resourcesOf(aws, "aws_iam_role_policy")).find(([id]) => id.startsWith("eks_loki_"))![1];
      const statements = statementsOf(rolePolicy.policy);
      expect(statements).toHaveLength(3);
      const resources = statements.map((s) => /"Resource" = ("[^"]*"|[a-z_][\w.-]*)/.exec(s)![1]);
      expect(resources[0]).toMatch(/^aws_s3_bucket\.log-bucket_[A-F0-9]+\.arn$/);
      expect(resources[1]).toMatch(/^"\$\{aws_s3_bucket\.log-bucket_[A-F0-9]+\.arn\}\/\*"$/);
      expect(resources[2]).toMatch(/^aws_kms_key\.log-bucket_key_[A-F0-9]+\.arn$/);
      expect(rolePolicy.policy).not.toContain('"*"');
      const actions = statements.flatMap((s) => [...s.matchAll(/"((?:s3|kms):[A-Za-z]+)"/g)].map((m) => m[1]));
      expect(actions.sort()).toEqual(["kms:Decrypt", "kms:GenerateDataKey", "s3:DeleteObject", "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket", "s3:PutObject"]);
    });
  });

  describe("azure-platform", () => {
    it("keeps keys and anonymous access off, TLS 1.2, and admits the cluster's subnet alone", () => {
      const account = onlyResource(azure, "azurerm_storage_account");
      expect(account).toMatchObject({
        shared_access_key_enabled: false,
        default_to_oauth_authentication: true,
        min_tls_version: "TLS1_2",
        https_traffic_only_enabled: true,
        allow_nested_items_to_be_public: false,
        local_user_enabled: false,
      });
      expect(account.network_rules.default_action).toBe("Deny");
      expect(account.network_rules.virtual_network_subnet_ids).toEqual([expect.stringMatching(/azurerm_subnet\.network_nodes_[A-F0-9]+\.id/)]);
      expect(account.network_rules.ip_rules).toBeUndefined();
      const nodes = Object.entries(resourcesOf(azure, "azurerm_subnet")).find(([id]) => id.startsWith("network_nodes"))![1];
      expect(nodes.service_endpoints).toEqual(["Microsoft.KeyVault", "Microsoft.Storage"]);
    });

    it("never reaches for the account's data plane, which refuses the deployer", () => {
      expect(azure.provider!.azurerm[0]).toMatchObject({ storage_use_azuread: true, features: [expect.objectContaining({ storage: [{ data_plane_available: false }] })] });
      expect(onlyResource(azure, "azurerm_storage_container")).toMatchObject({ name: LOG_CONTAINER, container_access_type: "private" });
      expect(onlyResource(azure, "azurerm_storage_container").storage_account_id).toMatch(/azurerm_storage_account\..+\.id/);
    });

    it("deletes Loki's chunks and index one day past the longest retention", () => {
      const [rule] = onlyResource(azure, "azurerm_storage_management_policy").rule;
      expect(rule.filters).toEqual({ blob_types: ["blockBlob"], prefix_match: ["loki/fake/", "loki/index/index_"] });
      expect(rule.actions.base_blob.delete_after_days_since_modification_greater_than).toBe(91);
    });

    it("lets Loki's service account alone write the one container", () => {
      const credential = Object.values(resourcesOf(azure, "azurerm_federated_identity_credential")).find((c: any) => c.subject.endsWith(":loki"));
      expect(credential.subject).toBe("system:serviceaccount:monitoring:loki");
      const assignment = Object.entries(resourcesOf(azure, "azurerm_role_assignment")).find(([id]) => id.startsWith("aks_loki"))![1];
      expect(assignment.role_definition_name).toBe("Storage Blob Data Contributor");
      expect(assignment.scope).toMatch(/azurerm_storage_container\.log-storage_container_[A-F0-9]+\.id/);
      expect(assignment.principal_id).toMatch(/azurerm_user_assigned_identity\.aks_loki_identity_[A-F0-9]+\.principal_id/);
    });
  });
});

const terraform = offlineTerraform();

describe.skipIf(!terraform.available)(`the log bucket in the offline plan against the real AWS provider${skipNote(terraform)}`, () => {
  let plan: any;
  beforeAll(() => {
    const plans: Record<string, OfflinePlanResult> = sharedOfflinePlans().plans;
    plan = plans["aws-platform"].plan;
  });

  it("plans the bucket with its key, policy, lifecycle and Loki's role", () => {
    const [bucket] = planned(plan, "aws_s3_bucket");
    expect(bucket).toMatchObject({ force_destroy: false });
    const keys = planned(plan, "aws_kms_key").filter((k) => k.address.includes("log-bucket"));
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ enable_key_rotation: true, deletion_window_in_days: 30 });
    expect(planned(plan, "aws_s3_bucket_public_access_block")).toHaveLength(1);
    expect(planned(plan, "aws_s3_bucket_policy")).toHaveLength(1);
    expect(planned(plan, "aws_iam_role").map((r) => r.name)).toContain("acme-platform-loki");
    expect(planned(plan, "aws_eks_pod_identity_association").find((a) => a.service_account === "loki")).toMatchObject({ namespace: "monitoring" });
  });

  it("the provider resolves the lifecycle rules with their prefixes and days", () => {
    const [lifecycle] = planned(plan, "aws_s3_bucket_lifecycle_configuration");
    const rules = Object.fromEntries(lifecycle.rule.map((r: any) => [r.id, r]));
    expect(rules["expire-chunks"].filter[0].prefix).toBe("fake/");
    expect(rules["expire-chunks"].expiration[0].days).toBe(91);
    expect(rules["expire-index"].filter[0].prefix).toBe("index/index_");
    expect(rules.tidy.noncurrent_version_expiration[0].noncurrent_days).toBe(7);
  });

  it("the provider resolves SSE-KMS with a bucket key", () => {
    const [encryption] = planned(plan, "aws_s3_bucket_server_side_encryption_configuration");
    expect(encryption.rule[0]).toMatchObject({ bucket_key_enabled: true, apply_server_side_encryption_by_default: [{ sse_algorithm: "aws:kms" }] });
  });
});
