import { DefaultTokenResolver, StringConcat, TerraformStack, Testing, Tokenization } from "cdktf";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config";
import { APPLICATION_OBJECT_ACTIONS, ApplicationBucket } from "../constructs/aws/application-bucket";
import { POD_IDENTITY_SESSION_TAGS } from "../constructs/aws/iam";
import { ApplicationStorage, DENIED_RESPONSE_TYPES, SERVER_ERROR_RESPONSE_TYPES } from "../constructs/azure/application-storage";
import { ServiceAccountIdentity } from "../constructs/azure/workload-identity";
import { applicationServiceAccount } from "../constructs/contract";
import { objectStorageConfigMap } from "../constructs/environment/application-accounts";
import { skipNote } from "./support/environment";
import { sharedOfflinePlans } from "./support/offline-plans";
import { offlineTerraform } from "./support/offline-terraform";
import { resourcesOf, synthesize, type Synthesized, type TerraformJson } from "./support/synth";
import { parse } from "yaml";

const config = loadConfig();
const ENVIRONMENTS = ["develop", "staging", "production"] as const;
const APP = "web";
const storage = config.applications.find((app) => app.name === APP)!.objectStorage!;

/** The only resource of a type whose id belongs to the application's storage. */
function ofApp(stack: TerraformJson, type: string): any {
  const found = Object.entries(resourcesOf(stack, type)).filter(([id]) => id.startsWith(`objects-${APP}_`) || id.startsWith(`app-${APP}-`));
  if (found.length !== 1) throw new Error(`expected one ${type} of ${APP}, found ${found.length}`);
  return found[0][1];
}

describe("object storage on AWS", () => {
  let synth: Synthesized;
  const data = (env: string) => synth.stack(`aws-${env}-data`);

  beforeAll(() => {
    synth = synthesize();
  });

  it.each(ENVIRONMENTS)("%s: the bucket blocks every form of public access, has no ACLs and refuses plain HTTP", (env) => {
    expect(ofApp(data(env), "aws_s3_bucket_public_access_block")).toMatchObject({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
    expect(ofApp(data(env), "aws_s3_bucket_ownership_controls").rule).toEqual({ object_ownership: "BucketOwnerEnforced" });
    const policy = ofApp(data(env), "aws_s3_bucket_policy").policy as string;
    expect(policy).toContain('"Effect" = "Deny"');
    expect(policy).toContain('"aws:SecureTransport" = "false"');
    expect(policy).not.toContain('"Effect" = "Allow"');
  });

  it.each(ENVIRONMENTS)("%s: objects are encrypted with the bucket's own key, through an S3 bucket key", (env) => {
    const [rule] = ofApp(data(env), "aws_s3_bucket_server_side_encryption_configuration").rule;
    expect(rule).toEqual({ apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: expect.stringMatching(/^\$\{aws_kms_key\.objects-web_key_\w+\.arn\}$/) }, bucket_key_enabled: true });
  });

  // Who may use the bucket's key: aws-security.test.ts, with every other key policy.

  it.each(ENVIRONMENTS)("%s: the application's role is usable by its own service account in its own namespace of this cluster only", (env) => {
    const role = ofApp(data(env), "aws_iam_role");
    for (const [tag, value] of [
      [POD_IDENTITY_SESSION_TAGS.namespace, env],
      [POD_IDENTITY_SESSION_TAGS.serviceAccount, applicationServiceAccount(APP)],
    ]) {
      expect(role.assume_role_policy).toContain(`"aws:RequestTag/${tag}" = "${value}"`);
    }
    expect(role.assume_role_policy).toContain(`"aws:RequestTag/${POD_IDENTITY_SESSION_TAGS.cluster}" = data.terraform_remote_state.cross-stack-reference-input-aws-platform.outputs`);
    expect(role.assume_role_policy).toContain('"Service" = "pods.eks.amazonaws.com"');
    expect(ofApp(data(env), "aws_eks_pod_identity_association")).toMatchObject({ namespace: env, service_account: applicationServiceAccount(APP), role_arn: expect.stringContaining("aws_iam_role.app-web-role") });
  });

  it("no role in any stack may touch objects but the application's own, on its own bucket", () => {
    for (const id of Object.keys(synth.manifest.stacks).filter((id) => id.startsWith("aws-"))) {
      for (const [name, policy] of Object.entries(resourcesOf(synth.stack(id), "aws_iam_role_policy"))) {
        if (!/s3:(GetObject|PutObject|DeleteObject)/.test(policy.policy)) continue;
        const isLoki = id === "aws-platform" && name.startsWith("eks_loki");
        // The CI roles write state objects, in the state bucket alone.
        const isCiState = id === "aws-bootstrap" && name.startsWith("ci_");
        expect({ id, name, allowed: isLoki || isCiState || name.startsWith("app-web-role_policy-objects") }).toEqual({ id, name, allowed: true });
        if (isCiState) {
          const objectResources = [...policy.policy.matchAll(/"Action" = \[([^\]]*)\][^}]*?"Resource" = (\[[^\]]*\]|"[^"]*")/gs)].filter(([, actions]) => /s3:(GetObject|PutObject|DeleteObject)/.test(actions)).map(([, , resource]) => resource);
          expect(objectResources.length, name).toBeGreaterThan(0);
          for (const resource of objectResources) expect(resource, name).toMatch(/aws_s3_bucket\.state_bucket_\w+\.arn/);
        } else if (!isLoki) {
          expect(policy.policy).toMatch(/"Resource" = "\$\{aws_s3_bucket\.objects-web_bucket_\w+\.arn\}\/\*"/);
          expect(policy.policy).not.toContain('"Resource" = "*"');
        }
      }
    }
  });

  it("the application may read versions but never delete one: what versioning keeps stays", () => {
    expect(APPLICATION_OBJECT_ACTIONS).toContain("s3:GetObjectVersion");
    expect(APPLICATION_OBJECT_ACTIONS.some((action) => /DeleteObjectVersion|PutBucket|PutLifecycle|\*/.test(action))).toBe(false);
  });

  it.each(ENVIRONMENTS)("%s: versioning, the noncurrent-version lifecycle and CORS come from the config", (env) => {
    expect(ofApp(data(env), "aws_s3_bucket_versioning").versioning_configuration).toEqual({ status: "Enabled" });
    const [rule] = ofApp(data(env), "aws_s3_bucket_lifecycle_configuration").rule;
    expect(rule).toMatchObject({ noncurrent_version_expiration: [{ noncurrent_days: storage.noncurrentVersionDays }], abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }] });
    expect(ofApp(data(env), "aws_s3_bucket_cors_configuration").cors_rule).toEqual([
      { allowed_origins: storage.cors[0].origins, allowed_methods: storage.cors[0].methods, allowed_headers: ["*"], expose_headers: ["ETag"], max_age_seconds: 3600 },
    ]);
  });

  it("production's bucket refuses deletion while it holds objects and is kept on destroy; develop's goes with its environment", () => {
    expect(ofApp(data("production"), "aws_s3_bucket")).toMatchObject({ force_destroy: false, lifecycle: { prevent_destroy: true } });
    expect(ofApp(data("develop"), "aws_s3_bucket")).toMatchObject({ force_destroy: true, lifecycle: { prevent_destroy: false } });
  });

  it("production's bucket is backed up with the environment's plan; develop and staging are not", () => {
    const selection = Object.entries(resourcesOf(data("production"), "aws_backup_selection")).find(([id]) => id.startsWith("backup_selection-web"))![1];
    expect(selection.resources).toEqual([expect.stringMatching(/^\$\{aws_s3_bucket\.objects-web_bucket_\w+\.arn\}$/)]);
    expect(selection.depends_on).toContain(`aws_s3_bucket_versioning.${Object.keys(resourcesOf(data("production"), "aws_s3_bucket_versioning"))[0]}`);
    const policies = Object.values(resourcesOf(data("production"), "aws_iam_role_policy_attachment")).map((a) => a.policy_arn);
    expect(policies).toEqual(expect.arrayContaining(["arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForS3Backup", "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForS3Restore"]));
    for (const env of ["develop", "staging"]) expect(Object.keys(resourcesOf(data(env), "aws_backup_selection")).filter((id) => id.includes("web"))).toEqual([]);
  });

  it("a bucket of a long project, environment and application name is shortened with a hash, within S3's 63 characters", () => {
    const stack = new TerraformStack(Testing.app(), "long-names");
    const bucket = new ApplicationBucket(stack, "objects", {
      project: "a-rather-long-projec",
      environment: "integration-testing1",
      application: "customer-document-uploads-ser",
      region: "eu-west-1",
      accessRoleArn: "arn:aws:iam::210987654321:role/x",
      settings: storage,
    });
    const name = Tokenization.resolve(bucket.bucket.bucketInput, { scope: bucket, resolver: new DefaultTokenResolver(new StringConcat()), preparing: false }) as string;
    const base = name.replace(/-\$\{element\(.*\)\}-eu-west-1$/, "");
    expect(base).toMatch(/^a-rather-long-projec-integratio-[0-9a-f]{8}$/);
    expect(`${base}-123456789012-eu-west-1`.length).toBeLessThanOrEqual(63);
  });
});

describe("object storage on Azure", () => {
  let synth: Synthesized;
  const data = (env: string) => synth.stack(`azure-${env}-data`);
  beforeAll(() => {
    synth = synthesize();
  });

  it.each(ENVIRONMENTS)("%s: the account has no shared keys, no anonymous access and TLS 1.2 or later", (env) => {
    expect(ofApp(data(env), "azurerm_storage_account")).toMatchObject({
      shared_access_key_enabled: false,
      default_to_oauth_authentication: true,
      local_user_enabled: false,
      allow_nested_items_to_be_public: false,
      https_traffic_only_enabled: true,
      min_tls_version: "TLS1_2",
      infrastructure_encryption_enabled: true,
      cross_tenant_replication_enabled: false,
    });
    expect(ofApp(data(env), "azurerm_storage_container")).toMatchObject({ name: APP, container_access_type: "private" });
  });

  it.each(ENVIRONMENTS)("%s: only the application's identity, federated with its own service account in its own namespace, has data access, on its container", (env) => {
    const identity = ofApp(data(env), "azurerm_federated_identity_credential");
    expect(identity.subject).toBe(`system:serviceaccount:${env}:${applicationServiceAccount(APP)}`);
    const containerId = Object.keys(resourcesOf(data(env), "azurerm_storage_container"))[0];
    const accountId = Object.keys(resourcesOf(data(env), "azurerm_storage_account"))[0];
    const onStorage = Object.values(resourcesOf(data(env), "azurerm_role_assignment")).filter((r) => String(r.scope).includes("azurerm_storage_"));
    const dataRoles = onStorage.filter((r) => /Data|Delegator/.test(r.role_definition_name));
    expect(dataRoles.map((r) => [r.role_definition_name, r.scope, r.principal_id])).toEqual([
      ["Storage Blob Data Contributor", `\${azurerm_storage_container.${containerId}.id}`, expect.stringContaining("app-web-identity")],
      // CORS: browsers upload with a user delegation SAS the application signs.
      ["Storage Blob Delegator", `\${azurerm_storage_account.${accountId}.id}`, expect.stringContaining("app-web-identity")],
    ]);
    // The backup vault manages the account's backups; it has no role on the data.
    expect(onStorage.filter((r) => !dataRoles.includes(r)).map((r) => r.role_definition_name)).toEqual(env === "production" ? ["Storage Account Backup Contributor"] : []);
  });

  it.each(ENVIRONMENTS)("%s: versioning, the noncurrent-version lifecycle and CORS come from the config", (env) => {
    const blob = ofApp(data(env), "azurerm_storage_account").blob_properties;
    expect(blob.versioning_enabled).toBe(true);
    expect(blob.cors_rule).toEqual([
      { allowed_origins: storage.cors[0].origins, allowed_methods: storage.cors[0].methods, allowed_headers: ["*"], exposed_headers: ["ETag"], max_age_in_seconds: 3600 },
    ]);
    expect(ofApp(data(env), "azurerm_storage_management_policy").rule[0].actions).toEqual({ version: { delete_after_days_since_creation: storage.noncurrentVersionDays } });
  });

  it("production keeps the account zone-redundant, locked and on destroy, with 30 days of point-in-time restore in the vault", () => {
    const account = ofApp(data("production"), "azurerm_storage_account");
    expect(account).toMatchObject({ account_replication_type: "ZRS", lifecycle: { prevent_destroy: true } });
    expect(account.blob_properties).toMatchObject({ change_feed_enabled: true, restore_policy: { days: 30 }, delete_retention_policy: { days: 31 } });
    const lock = Object.values(resourcesOf(data("production"), "azurerm_management_lock")).find((l) => l.name === "protect-production-objects");
    expect(lock).toMatchObject({ lock_level: "CanNotDelete", scope: expect.stringContaining("azurerm_storage_account.objects-web_account") });
    // Lifted before anything under the account is deleted on a destroy.
    expect(lock.depends_on).toEqual(expect.arrayContaining([expect.stringContaining("azurerm_storage_container."), expect.stringMatching(/^azurerm_role_assignment\.objects-backup_web/)]));
    const instance = Object.values(resourcesOf(data("production"), "azurerm_data_protection_backup_instance_blob_storage"))[0];
    expect(instance).toMatchObject({ storage_account_id: expect.stringContaining("objects-web_account"), lifecycle: { prevent_destroy: true } });
    expect(Object.values(resourcesOf(data("production"), "azurerm_data_protection_backup_policy_blob_storage"))[0].operational_default_retention_duration).toBe("P30D");
    const develop = ofApp(data("develop"), "azurerm_storage_account");
    expect(develop).toMatchObject({ account_replication_type: "LRS", lifecycle: { prevent_destroy: false } });
    expect(develop.blob_properties.restore_policy).toBeUndefined();
    expect(resourcesOf(data("develop"), "azurerm_management_lock")).toEqual({});
  });

  it.each(ENVIRONMENTS)("%s: alerts on refused and failed requests from the account's free Transactions metric", (env) => {
    const alerts = Object.values(resourcesOf(data(env), "azurerm_monitor_metric_alert"));
    expect(alerts.map((a) => a.criteria[0].dimension[0].values)).toEqual([DENIED_RESPONSE_TYPES, SERVER_ERROR_RESPONSE_TYPES]);
    for (const alert of alerts) {
      expect(alert.criteria[0]).toMatchObject({ metric_namespace: "Microsoft.Storage/storageAccounts", metric_name: "Transactions", aggregation: "Total" });
      expect(alert.action[0].action_group_id).toContain("cross-stack-reference-input-azure-platform");
    }
  });

  it("admits the nodes subnet only when no browser calls the storage", () => {
    const stack = new TerraformStack(Testing.app(), "no-cors");
    const identity = new ServiceAccountIdentity(stack, "identity", { name: "id", location: "westeurope", resourceGroupName: "rg", issuer: "https://issuer", namespace: "develop", serviceAccount: "app-web" });
    new ApplicationStorage(stack, "objects", {
      accountName: "acmedevelopweb00000000",
      location: "westeurope",
      resourceGroupName: "rg",
      application: APP,
      settings: { versioning: false, cors: [], backup: false },
      nodesSubnetId: "nodes-subnet-id",
      identity,
      actionGroupId: "action-group-id",
      alertPrefix: "acme-develop-web-objects",
    });
    const synthesized = JSON.parse(Testing.synth(stack));
    const account = Object.values(synthesized.resource.azurerm_storage_account)[0] as any;
    expect(account.network_rules).toEqual({ default_action: "Deny", virtual_network_subnet_ids: ["nodes-subnet-id"], bypass: ["AzureServices"] });
    expect(account.blob_properties.versioning_enabled).toBe(false);
    expect(Object.values(synthesized.resource.azurerm_role_assignment).map((r: any) => r.role_definition_name)).toEqual(["Storage Blob Data Contributor"]);
    expect(ofApp(data("develop"), "azurerm_storage_account").network_rules).toEqual({ default_action: "Allow", bypass: ["AzureServices"] });
  });
});

describe("object storage in the environment namespaces", () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize();
  });
  const manifests = (id: string) => Object.values(resourcesOf(synth.stack(id), "helm_release")).flatMap((r) => r.values.flatMap((v: string) => parse(v).manifests));

  it.each(["aws", "azure"].flatMap((cloud) => ENVIRONMENTS.map((env) => `${cloud}-${env}`)))("%s: a ConfigMap says where web's storage is, names and endpoint only", (id) => {
    const [cloud] = id.split("-");
    const configMap = Object.values(resourcesOf(synth.stack(id), "kubernetes_config_map_v1")).find((c) => c.metadata.name === objectStorageConfigMap(APP));
    expect(configMap.metadata.namespace).toBe(id.split("-")[1]);
    expect(Object.keys(configMap.data).sort()).toEqual(
      ["OBJECT_STORAGE_BUCKET", "OBJECT_STORAGE_ENDPOINT", "OBJECT_STORAGE_PROVIDER", cloud === "aws" ? "AWS_REGION" : "AZURE_STORAGE_ACCOUNT"].sort(),
    );
    expect(configMap.data.OBJECT_STORAGE_PROVIDER).toBe(cloud === "aws" ? "s3" : "azure-blob");
    expect(JSON.stringify(configMap.data)).not.toMatch(/key|secret|password|sas/i);
    // api asked for no storage: no ConfigMap, but a service account of its own.
    expect(Object.values(resourcesOf(synth.stack(id), "kubernetes_config_map_v1")).map((c) => c.metadata.name)).toEqual([objectStorageConfigMap(APP)]);
    const substitute = manifests(id).find((m) => m.kind === "Kustomization").spec.postBuild.substitute;
    expect(substitute).toMatchObject({ SERVICE_ACCOUNT_WEB: "app-web", SERVICE_ACCOUNT_API: "app-api", OBJECT_STORAGE_WEB: "web-object-storage" });
    expect(substitute.OBJECT_STORAGE_API).toBeUndefined();
  });

  it("on azure, the application's service account carries its identity; on aws, Pod Identity needs no annotation", () => {
    const account = (id: string) => Object.values(resourcesOf(synth.stack(id), "kubernetes_service_account_v1")).find((sa) => sa.metadata.name === "app-web");
    expect(Object.keys(account("azure-staging").metadata.annotations)).toEqual(["azure.workload.identity/client-id"]);
    expect(account("azure-staging").metadata.annotations["azure.workload.identity/client-id"]).toContain("app-web-identity");
    expect(account("aws-staging").metadata.annotations).toEqual({});
  });
});

const terraform = offlineTerraform();
describe.skipIf(!terraform.available)(`object storage as the real AWS provider plans it${skipNote(terraform)}`, () => {
  const planned = (type: string) => sharedOfflinePlans().plans["aws-production-data"].plan.resource_changes.filter((c: any) => c.type === type && c.address.includes("objects-web")).map((c: any) => c.change.after);

  it("resolves production's bucket as private, encrypted under its key and kept", () => {
    expect(planned("aws_s3_bucket")).toEqual([expect.objectContaining({ force_destroy: false })]);
    expect(planned("aws_s3_bucket_public_access_block")).toEqual([expect.objectContaining({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true })]);
    const [encryption] = planned("aws_s3_bucket_server_side_encryption_configuration");
    expect(encryption.rule).toEqual([expect.objectContaining({ bucket_key_enabled: true, apply_server_side_encryption_by_default: [expect.objectContaining({ sse_algorithm: "aws:kms" })] })]);
    expect(planned("aws_s3_bucket_cors_configuration")[0].cors_rule).toEqual([expect.objectContaining({ allowed_methods: ["GET", "PUT"], allowed_origins: storage.cors[0].origins })]);
  });
});
