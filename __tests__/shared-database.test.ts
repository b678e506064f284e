import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { loadConfig, PROJECT_ROOT, sharedServerWarnings, validateConfig } from "../config";
import { ENVIRONMENT_DEPLOYER_ROLE } from "../constructs/kubernetes/ci-access";
import { ciDeployNamespaces, ciDeploysDatabaseSetup } from "../stacks/deployment";
import { guardPlan, protectedChanges } from "../tools/destroy-guard";
import { deployLayers, productionEnvironmentNames, productionStacks } from "../tools/stack-order";
import { deriveActions, planOfStack } from "./support/derived-plans";
import { skipNote } from "./support/environment";
import { offlineTerraform, planOffline, plannedTypes, type OfflinePlanResult } from "./support/offline-terraform";
import { SHARED_SERVER, sharedServerConfig, sharedServerRaw } from "./support/shared-server";
import { configWith, resourcesOf, synthesize, type Synthesized, type TerraformJson } from "./support/synth";

const CLOUDS = ["aws", "azure"] as const;
const SERVER_STACK = (cloud: string) => `${cloud}-database-${SHARED_SERVER}`;

/** Keys of a stack's resources of a type, with the environment's name in them. */
const keyed = (stack: TerraformJson, type: string, part: string) => Object.keys(resourcesOf(stack, type)).filter((id) => id.includes(part));

function manifestsOf(stack: TerraformJson): any[] {
  return Object.values(resourcesOf(stack, "helm_release")).flatMap((release) => release.values.flatMap((text: string) => parse(text).manifests));
}

/**
 * Every resource address of production's data stacks before shared servers
 * existed: an environment's own server keeps them all, so no state moves and
 * nothing is replaced.
 */
const OWN_SERVER_ADDRESSES: Record<string, string[]> = {
  "aws-production-data": [
  "aws_backup_plan.backup_plan_FCCCE43A",
  "aws_backup_selection.backup_selection_31765CE5",
  "aws_backup_vault.backup_vault_A3268EAD",
  "aws_backup_vault_lock_configuration.backup_lock_40F0D2FE",
  "aws_backup_vault_notifications.backup_notifications_F554F33F",
  "aws_cloudwatch_metric_alarm.backup-alarms_daily_267400C5",
  "aws_cloudwatch_metric_alarm.backup-alarms_hourly_0EDF40C2",
  "aws_db_instance.postgres_instance_919E2690",
  "aws_db_parameter_group.postgres_parameters_7354F6DC",
  "aws_db_subnet_group.postgres_subnets_7E4EC72B",
  "aws_iam_role.app-role_42B844E6",
  "aws_iam_role.backup_role_8AB93ACD",
  "aws_iam_role.postgres_monitoring-role_5CA057AB",
  "aws_iam_role_policy.app-role_policy-acme-production-app_F5687300",
  "aws_iam_role_policy_attachment.backup_role_service-role--AWSBackupServiceRolePolicyForBackup_5AB669B7",
  "aws_iam_role_policy_attachment.backup_role_service-role--AWSBackupServiceRolePolicyForRestores_9C7AB7EA",
  "aws_iam_role_policy_attachment.postgres_monitoring-role_service-role--AmazonRDSEnhancedMonitoringRole_0920DED8",
  "aws_kms_alias.backup-key_alias_7B1ECB6C",
  "aws_kms_alias.database-key_alias_BD853208",
  "aws_kms_key.backup-key_3D56A38B",
  "aws_kms_key.database-key_C4D88439",
  "aws_kms_key_policy.backup-key_policy_70297A9D",
  "aws_kms_key_policy.database-key_policy_1E0F7730",
  "aws_security_group.postgres_security-group_1096EB35",
  "aws_sns_topic.backup_failures_66453848",
  "aws_sns_topic_policy.backup_failures-policy_EDFA6B47",
  "aws_sns_topic_subscription.backup_failures-email-0_7D20407D",
  "aws_vpc_security_group_ingress_rule.postgres_from-cluster_C79D0FAB",
  ],
  "azure-production-data": [
  "azurerm_data_protection_backup_instance_postgresql_flexible_server.backup_instance_8FFBDEBE",
  "azurerm_data_protection_backup_policy_postgresql_flexible_server.backup_policy_3CB714DA",
  "azurerm_data_protection_backup_vault.backup_vault_A3268EAD",
  "azurerm_federated_identity_credential.app-identity_federation_8D4DE954",
  "azurerm_key_vault_secret.postgres_admin-password_7772F9BE",
  "azurerm_management_lock.backup-lock",
  "azurerm_management_lock.server-lock",
  "azurerm_monitor_diagnostic_setting.backup-alerts_diagnostics_81357577",
  "azurerm_monitor_scheduled_query_rules_alert_v2.backup-alerts_failed_4CAFE857",
  "azurerm_monitor_scheduled_query_rules_alert_v2.backup-alerts_not-completed_4AC6AE4F",
  "azurerm_postgresql_flexible_server.postgres_server_20CD2676",
  "azurerm_postgresql_flexible_server_active_directory_administrator.postgres_entra-admin_CA7679F1",
  "azurerm_postgresql_flexible_server_configuration.postgres_parameter-log_connections_47F8144C",
  "azurerm_postgresql_flexible_server_configuration.postgres_parameter-log_disconnections_1B22320F",
  "azurerm_postgresql_flexible_server_configuration.postgres_parameter-require_secure_transport_DDD5DE16",
  "azurerm_postgresql_flexible_server_database.postgres_database_B2C47E30",
  "azurerm_resource_group.resource-group",
  "azurerm_role_assignment.app-identity_read-database-password_D12FC502",
  "azurerm_role_assignment.backup_vault-backs-up-server_E2CFA551",
  "azurerm_role_assignment.backup_vault-reads-resource-group_9829E2AF",
  "azurerm_user_assigned_identity.app-identity_5771EB97",
  "terraform_data.backup_vault-roles-propagated_911A0DE5",
  ],
};

describe("stack ids", () => {
  it("stay today's for the default one server per environment, with no database server stack", () => {
    const ids = Object.keys(synthesize().manifest.stacks).sort();
    expect(ids).toEqual(
      CLOUDS.flatMap((cloud) => [`${cloud}-bootstrap`, `${cloud}-platform`, `${cloud}-addons`, ...["develop", "staging", "production"].flatMap((env) => [`${cloud}-${env}`, `${cloud}-${env}-data`])]).sort(),
    );
  });

  it.each(Object.keys(OWN_SERVER_ADDRESSES))("%s keeps every resource address its own server had, or moves it with a moved block", (id) => {
    const stack = synthesize().stack(id);
    const addresses = Object.entries(stack.resource ?? {}).flatMap(([type, resources]) => Object.keys(resources).map((name) => `${type}.${name}`));
    const moves: { from: string; to: string }[] = (stack as any).moved ?? [];
    for (const { to } of moves) expect(addresses).toContain(to);
    expect([...addresses, ...moves.map((move) => move.from)]).toEqual(expect.arrayContaining(OWN_SERVER_ADDRESSES[id]));
  });

  it("add <cloud>-database-<server> for a shared server and keep every environment's", () => {
    const ids = Object.keys(synthesize(sharedServerConfig()).manifest.stacks);
    expect(ids.filter((id) => id.includes("-database-")).sort()).toEqual([SERVER_STACK("aws"), SERVER_STACK("azure")]);
    // Each cloud's bootstrap, platform and add-ons, two stacks per environment, and the server.
    expect(ids).toHaveLength(20);
  });
});

describe("environments on a shared server", () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize(sharedServerConfig());
  });
  const stack = (id: string) => synth.stack(id);

  it.each(CLOUDS)("%s: the server stack depends on the platform alone; the environments' data stacks on it", (cloud) => {
    expect(synth.manifest.stacks[SERVER_STACK(cloud)].dependencies).toEqual([`${cloud}-platform`]);
    for (const env of ["develop", "staging"]) expect(synth.manifest.stacks[`${cloud}-${env}-data`].dependencies).toContain(SERVER_STACK(cloud));
    expect(synth.manifest.stacks[`${cloud}-production-data`].dependencies).not.toContain(SERVER_STACK(cloud));
  });

  it("aws: one server for both, none in their data stacks, production keeps its own", () => {
    expect(Object.keys(resourcesOf(stack(SERVER_STACK("aws")), "aws_db_instance"))).toHaveLength(1);
    for (const env of ["develop", "staging"]) expect(resourcesOf(stack(`aws-${env}-data`), "aws_db_instance")).toEqual({});
    expect(Object.keys(resourcesOf(stack("aws-production-data"), "aws_db_instance"))).toHaveLength(1);
    const [server] = Object.values(resourcesOf(stack(SERVER_STACK("aws")), "aws_db_instance"));
    expect(server).toMatchObject({ identifier: `acme-${SHARED_SERVER}`, multi_az: false, backup_retention_period: 14, publicly_accessible: false, storage_encrypted: true, manage_master_user_password: true });
    expect(server.db_name).toBeUndefined();
  });

  it("azure: one Flexible Server for both, none in their data stacks", () => {
    expect(Object.keys(resourcesOf(stack(SERVER_STACK("azure")), "azurerm_postgresql_flexible_server"))).toHaveLength(1);
    for (const env of ["develop", "staging"]) expect(resourcesOf(stack(`azure-${env}-data`), "azurerm_postgresql_flexible_server")).toEqual({});
    // The setup Job creates the databases, so that they belong to the environments' roles.
    expect(resourcesOf(stack(SERVER_STACK("azure")), "azurerm_postgresql_flexible_server_database")).toEqual({});
  });

  it.each(CLOUDS)("%s: backs the shared server up and alarms on it, per server", (cloud) => {
    const server = stack(SERVER_STACK(cloud));
    if (cloud === "aws") {
      expect(plannedCount(server, "aws_backup_plan")).toBe(1);
      expect(plannedCount(server, "aws_cloudwatch_metric_alarm")).toBe(2);
    } else {
      expect(plannedCount(server, "azurerm_data_protection_backup_instance_postgresql_flexible_server")).toBe(1);
      expect(plannedCount(server, "azurerm_monitor_scheduled_query_rules_alert_v2")).toBe(2);
    }
  });

  it("aws: each environment's password is generated write-only into a secret of its own, never into state", () => {
    const server = stack(SERVER_STACK("aws"));
    for (const env of ["develop", "staging"]) {
      const [version] = keyed(server, "aws_secretsmanager_secret_version", `credentials-${env}`).map((id) => resourcesOf(server, "aws_secretsmanager_secret_version")[id]);
      expect(version.secret_string).toBeUndefined();
      expect(version.secret_string_wo).toBe(`\${jsonencode({"username" = "${env}", "password" = uuid()})}`);
      expect(version.secret_string_wo_version).toBe(1);
    }
  });

  it("azure: each environment's password is generated write-only into Key Vault, never into state", () => {
    const server = stack(SERVER_STACK("azure"));
    for (const env of ["develop", "staging"]) {
      const [secret] = keyed(server, "azurerm_key_vault_secret", `credentials-${env}`).map((id) => resourcesOf(server, "azurerm_key_vault_secret")[id]);
      expect(secret).toMatchObject({ name: `acme-${SHARED_SERVER}-${env}-password`, value_wo: "Pg-${uuid()}", value_wo_version: 1 });
      expect(secret.value).toBeUndefined();
    }
  });

  it("aws: each setup identity, trusted by its own service account in the setup namespace, reads the administrator's secret and its environment's only", () => {
    const server = stack(SERVER_STACK("aws"));
    for (const [env, other] of [["develop", "staging"], ["staging", "develop"]]) {
      const trust = server.data!.aws_iam_policy_document[`setup-${env}-trust`];
      expect(trust.statement[0].condition).toContainEqual(expect.objectContaining({ test: "StringEquals", values: [`system:serviceaccount:database-setup:setup-${env}`] }));
      const [policy] = keyed(server, "aws_iam_role_policy", `setup-${env}_`).map((id) => resourcesOf(server, "aws_iam_role_policy")[id].policy as string);
      expect(policy).toContain("master_user_secret[0].secret_arn");
      expect(policy).toContain(`aws_secretsmanager_secret.credentials-${env}_secret`);
      expect(policy).not.toContain(`credentials-${other}`);
    }
  });

  it("aws: one environment's application service account cannot read another's database credentials", () => {
    for (const [env, other] of [["develop", "staging"], ["staging", "develop"]]) {
      const data = stack(`aws-${env}-data`);
      const [policy] = Object.entries(resourcesOf(data, "aws_iam_role_policy")).filter(([id]) => id.startsWith("app-role_")).map(([, p]) => p.policy as string);
      expect(policy).toContain(`aws_secretsmanager_secretcredentials-${env}_secret`);
      expect(policy).not.toContain(`credentials-${other}`);
      expect(policy).not.toContain("master_user_secret");
    }
  });

  it("azure: the setup identities and the environments' identities read exactly their own secrets", () => {
    const server = stack(SERVER_STACK("azure"));
    const grants = Object.values(resourcesOf(server, "azurerm_role_assignment")).filter((r) => r.role_definition_name === "Key Vault Secrets User");
    for (const [env, other] of [["develop", "staging"], ["staging", "develop"]]) {
      const mine = grants.filter((r) => r.principal_id.includes(`setup-${env}_identity`)).map((r) => r.scope as string);
      expect(mine).toHaveLength(2);
      expect(mine).toEqual(expect.arrayContaining([expect.stringContaining("postgres_admin-password"), expect.stringMatching(new RegExp(`credentials-${env}\\b`))]));
      expect(mine.join()).not.toContain(`credentials-${other}`);
      const federation = Object.values(resourcesOf(server, "azurerm_federated_identity_credential")).find((f) => f.subject.endsWith(`setup-${env}`));
      expect(federation.subject).toBe(`system:serviceaccount:database-setup:setup-${env}`);
      const appGrants = Object.values(resourcesOf(stack(`azure-${env}-data`), "azurerm_role_assignment")).filter((r) => r.role_definition_name === "Key Vault Secrets User");
      expect(appGrants.map((r) => r.scope)).toEqual([expect.stringMatching(new RegExp(`azurerm_key_vault_secretcredentials-${env}resource_versionless_id`))]);
    }
  });

  it.each(CLOUDS)("%s: the environment stack sets its database up in the setup namespace, as the setup identity, against the shared server", (cloud) => {
    const env = stack(`${cloud}-staging`);
    const objects = manifestsOf(env);
    const job = objects.find((m) => m.kind === "Job");
    expect(job.metadata.namespace).toBe("database-setup");
    expect(job.spec.template.spec.containers[0].env).toEqual(
      expect.arrayContaining([
        { name: "DATABASE_NAME", value: "staging" },
        { name: "DATABASE_ROLE", value: "staging" },
        { name: "PGHOST", value: expect.stringContaining(`cross-stack-reference-input-${SERVER_STACK(cloud)}`) },
      ]),
    );
    const account = Object.values(resourcesOf(env, "kubernetes_service_account_v1")).find((sa) => sa.metadata.name === "setup-staging");
    expect(account.metadata.namespace).toBe("database-setup");
    const store = objects.find((m) => m.kind === "SecretStore" && m.metadata.namespace === "database-setup");
    expect(JSON.stringify(store.spec.provider)).toContain('"serviceAccountRef":{"name":"setup-staging"}');
    // The environment's own namespace never holds the administrator's credentials.
    // (The webhook token's ExternalSecret reads a generator, no store.)
    for (const external of objects.filter((m) => m.kind === "ExternalSecret" && m.metadata.namespace === "staging" && m.spec.data)) {
      expect(JSON.stringify(external.spec.data)).toContain(`credentials-staging`);
      expect(JSON.stringify(external.spec.data)).not.toMatch(/admin-password|master_user_secret/);
    }
    // Production, on its own server, needs no setup.
    expect(manifestsOf(stack(`${cloud}-production`)).filter((m) => m.kind === "Job")).toEqual([]);
  });

  it.each(CLOUDS)("%s: the setup namespace exists, restricted, only where a shared server is", (cloud) => {
    const namespaces = (s: TerraformJson) => Object.values(resourcesOf(s, "kubernetes_namespace_v1")).map((n) => n.metadata);
    expect(namespaces(stack(`${cloud}-addons`))).toContainEqual({
      name: "database-setup",
      labels: expect.objectContaining({ "pod-security.kubernetes.io/enforce": "restricted" }),
    });
    expect(namespaces(synthesize().stack(`${cloud}-addons`)).map((n) => n.name)).not.toContain("database-setup");
  });

  it.each(CLOUDS)("%s: the CI deploy identity, which applies develop's and staging's setup Jobs, administers the setup namespace", (cloud) => {
    const bindings = (id: string, namespace: string) => Object.values(resourcesOf(stack(id), "kubernetes_role_binding_v1")).filter((b: any) => b.metadata.namespace === namespace && b.role_ref.name === ENVIRONMENT_DEPLOYER_ROLE);
    // The same subject as the one develop's stack binds in its own namespace.
    const [develop] = bindings(`${cloud}-develop`, "develop");
    expect(bindings(`${cloud}-addons`, "database-setup").map((b: any) => b.subject)).toEqual([develop.subject]);
    const platform = stack(`${cloud}-platform`);
    if (cloud === "aws") {
      const deploy = Object.entries(resourcesOf(platform, "aws_eks_access_policy_association")).find(([id]) => id.startsWith("ci-access_deploy-policy_"))![1];
      expect(deploy.access_scope.namespaces).toEqual(["develop", "staging", "database-setup"]);
    } else {
      const scopes = Object.values(resourcesOf(platform, "azurerm_role_assignment")).map((a: any) => a.scope).filter((scope: string) => scope.includes("/namespaces/"));
      expect(scopes.map((scope: string) => scope.split("/namespaces/")[1]).sort()).toEqual(["database-setup", "develop", "staging"]);
    }
  });

  it("keeps the setup namespace the production identity's alone where a production environment's server is set up there", () => {
    const own = validateConfig(sharedServerRaw());
    const withProductionShared = validateConfig(
      sharedServerRaw((raw) => {
        raw.databaseServers[0] = { ...raw.databaseServers[0], highAvailability: true, backupRetentionDays: 35, allowProductionOnShared: true };
        raw.environments[2].database = { server: SHARED_SERVER };
      }),
    );
    expect([ciDeploysDatabaseSetup(own), ciDeploysDatabaseSetup(withProductionShared), ciDeploysDatabaseSetup(validateConfig(configWith(() => undefined)))]).toEqual([true, false, false]);
    expect(ciDeployNamespaces(withProductionShared)).toEqual(["develop", "staging"]);
  });

  it("deploys in the deploy workflow's four layers: platform, then servers and add-ons, then data, then environments", () => {
    const layers = deployLayers(synth.manifest, productionEnvironmentNames(sharedServerConfig()), 4).map((layer) => [...layer.stacks, ...layer.production]);
    expect(layers[1]).toEqual(expect.arrayContaining([SERVER_STACK("aws"), "aws-addons"]));
    expect(layers[2]).toEqual(expect.arrayContaining(["aws-develop-data", "aws-staging-data"]));
    expect(layers[3]).toEqual(expect.arrayContaining(["aws-develop", "aws-staging"]));
    // A server with no production environment waits for no production approval.
    expect(productionStacks(synth.manifest, ["production"]).has(SERVER_STACK("aws"))).toBe(false);
  });

  it("azure: the guard refuses removing an environment from a shared server, as it refuses deleting a server", () => {
    const plan = planOfStack(stack(SERVER_STACK("azure")), "delete");
    plan.resource_changes = plan.resource_changes.filter((c: any) => c.address.includes("credentials-staging"));
    expect(guardPlan(SERVER_STACK("azure"), plan)).toMatchObject({
      ok: false,
      changes: [expect.objectContaining({ type: "azurerm_key_vault_secret", action: "delete" })],
    });
  });
});

function plannedCount(stack: TerraformJson, type: string): number {
  return Object.keys(resourcesOf(stack, type)).length;
}

describe("a production environment on a shared server", () => {
  const withProduction = (allow: boolean) =>
    sharedServerRaw((raw) => {
      raw.databaseServers[0] = { ...raw.databaseServers[0], highAvailability: true, backupRetentionDays: 35, allowProductionOnShared: allow };
      raw.environments[2].database = { server: SHARED_SERVER };
    });

  it("is refused without allowProductionOnShared, naming the trade-off", () => {
    expect(() => loadConfigFrom(withProduction(false))).toThrow(
      `environments[2].database.server: "${SHARED_SERVER}" is not allowed: production shares a server with develop, staging only when databaseServers[0].allowProductionOnShared is true: their load, restarts and upgrades reach production`,
    );
  });

  it("makes synth print a warning naming what production gives up, and puts the server behind the production approval", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "shared-production-"));
    try {
      const raw = withProduction(true);
      delete raw.clouds.azure;
      writeFileSync(path.join(dir, "platform.yaml"), stringify(raw));
      const run = spawnSync(process.execPath, [path.join(PROJECT_ROOT, "scripts", "synth.cjs")], {
        cwd: dir,
        env: { ...process.env, PLATFORM_CONFIG: path.join(dir, "platform.yaml"), CDKTF_CONTEXT_JSON: undefined },
        encoding: "utf8",
      });
      expect(run.status, run.stderr).toBe(0);
      const expected = sharedServerWarnings(loadConfigFrom(raw));
      expect(expected).toEqual([
        `warning: production environment 'production' shares database server '${SHARED_SERVER}' with develop, staging (allowProductionOnShared): they share its CPU, memory and connections, its restarts, upgrades and maintenance window, and a point-in-time restore of the server rolls every database on it back. Give production a server of its own to isolate it.`,
      ]);
      expect(run.stdout).toContain(expected[0]);
      const manifest = JSON.parse(readFileSync(path.join(dir, "cdktf.out", "manifest.json"), "utf8"));
      expect(productionStacks(manifest, productionEnvironmentNames(loadConfigFrom(raw))).has(SERVER_STACK("aws"))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function loadConfigFrom(raw: unknown) {
  const dir = mkdtempSync(path.join(tmpdir(), "shared-config-"));
  try {
    writeFileSync(path.join(dir, "platform.yaml"), stringify(raw));
    return loadConfig(path.join(dir, "platform.yaml"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The shared server and an environment's data stack on it, planned once
 * against the real AWS provider: the only stacks this config changes beside
 * the default program's plans (the buckets are in those).
 */
const terraform = offlineTerraform();
describe.skipIf(!terraform.available)(`the shared server, planned offline against the real AWS provider${skipNote(terraform)}`, () => {
  const plans: Record<string, OfflinePlanResult> = {};
  beforeAll(async () => {
    const synth = synthesize(sharedServerConfig(), { only: "aws" });
    await Promise.all(
      [SERVER_STACK("aws"), "aws-staging-data"].map(async (id) => {
        plans[id] = await planOffline(terraform, path.join(synth.outdir, synth.manifest.stacks[id].workingDirectory));
      }),
    );
  }, 240_000);
  afterAll(() => {
    for (const result of Object.values(plans)) rmSync(result.workdir, { recursive: true, force: true });
  });

  it.each([SERVER_STACK("aws"), "aws-staging-data"])("%s validates and plans only creations, with no error or warning", (id) => {
    expect(plans[id].diagnostics).toEqual({ error_count: 0, warning_count: 0, diagnostics: [] });
    expect(new Set(plans[id].plan.resource_changes.map((c: any) => c.change.actions.join("+")))).toEqual(new Set(["create"]));
  });

  it("the server plans one instance, its backups, and a secret and setup role per environment", () => {
    expect(plannedTypes(plans[SERVER_STACK("aws")].plan)).toMatchObject({
      aws_db_instance: 1,
      aws_backup_plan: 1,
      aws_backup_selection: 1,
      aws_secretsmanager_secret: 2,
      aws_secretsmanager_secret_version: 2,
      // AWS Backup's and one setup role per environment.
      aws_iam_role: 3,
    });
  });

  it("the provider keeps the generated password out of the plan", () => {
    for (const change of plans[SERVER_STACK("aws")].plan.resource_changes.filter((c: any) => c.type === "aws_secretsmanager_secret_version")) {
      expect(change.change.after.secret_string_wo ?? null).toBeNull();
      expect(change.change.after.secret_string_wo_version).toBe(1);
      expect(JSON.stringify(change)).not.toMatch(/"password"/);
    }
  });

  it("staging's data stack plans its bucket and identities and no database", () => {
    const types = plannedTypes(plans["aws-staging-data"].plan);
    expect(types).toMatchObject({ aws_s3_bucket: 1, aws_eks_pod_identity_association: 1, aws_kms_key: 1 });
    expect(types.aws_db_instance).toBeUndefined();
  });

  it("derived from the real plan: removing staging from the server trips the destroy guard on its secret", () => {
    const plan = plans[SERVER_STACK("aws")].plan;
    const secret = plan.resource_changes.find((c: any) => c.type === "aws_secretsmanager_secret" && c.address.includes("credentials-staging")).address;
    const result = guardPlan(SERVER_STACK("aws"), deriveActions(plan, { [secret]: "delete" }));
    expect(result.ok).toBe(false);
    expect(protectedChanges(deriveActions(plan, { [secret]: "delete" }))).toEqual([expect.objectContaining({ address: secret, type: "aws_secretsmanager_secret", action: "delete" })]);
    expect(result.message).toContain(`  - ${secret} would be deleted: a generated secret`);
  });
});
