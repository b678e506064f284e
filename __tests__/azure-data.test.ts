import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE_CONFIG_PATH, loadConfig } from "../config";
import { POSTGRES_ADMIN_LOGIN } from "../constructs/azure/postgres";
import { configWith, onlyResource, resourcesOf, synthesize, validateConfig, type Synthesized, type TerraformJson } from "./support/synth";

const ENVIRONMENTS = ["develop", "staging", "production"] as const;
const stackOf = (env: string) => `azure-${env}-data`;

/** The environment's `app` identity's resource of a type; applications' identities beside it are in object-storage.test.ts. */
const appIdentity = (stack: TerraformJson, type: string) => {
  const [found, ...more] = Object.entries(resourcesOf(stack, type)).filter(([id]) => id.startsWith("app-identity_"));
  if (!found || more.length > 0) throw new Error(`expected one ${type} of app-identity`);
  return found[1];
};

/** Every string-valued field whose key names a password or secret, with its path. */
function secretLikeFields(node: unknown, path = ""): { path: string; value: string }[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => secretLikeFields(item, `${path}[${i}]`));
  if (node === null || typeof node !== "object") return [];
  return Object.entries(node as Record<string, unknown>).flatMap(([key, value]) => {
    const here = `${path}.${key}`;
    if (typeof value === "string" && /pass(word)?|secret|_wo$|^value$/i.test(key)) return [{ path: here, value }];
    return secretLikeFields(value, here);
  });
}

describe("azure-<env>-data", () => {
  let synth: Synthesized;
  const stacks: Record<string, TerraformJson> = {};
  const server = (env: string) => onlyResource(stacks[env], "azurerm_postgresql_flexible_server");

  beforeAll(() => {
    synth = synthesize();
    for (const env of ENVIRONMENTS) stacks[env] = synth.stack(stackOf(env));
  });
  afterAll(() => synth?.cleanup());

  it.each(ENVIRONMENTS)("%s matches the reviewed snapshot", async (env) => {
    await expect(JSON.stringify(stacks[env], null, 2)).toMatchFileSnapshot(`./__snapshots__/${stackOf(env)}.tf.json`);
  });

  it.each(ENVIRONMENTS)("%s uses azurerm alone and needs Terraform 1.11 for write-only arguments", (env) => {
    expect(Object.keys(stacks[env].provider ?? {})).toEqual(["azurerm"]);
    expect(stacks[env].terraform?.required_version).toBe(">= 1.11.0");
  });

  describe("PostgreSQL Flexible Server", () => {
    it.each(ENVIRONMENTS)("%s has its own server in the delegated subnet and private DNS zone", (env) => {
      expect(server(env).name).toBe(`acme-${env}`);
      expect(server(env).delegated_subnet_id).toMatch(/cross-stack-output-azurerm_subnetnetwork_postgres_[A-Z0-9]+id\}$/);
      expect(server(env).private_dns_zone_id).toMatch(/cross-stack-output-azurerm_private_dns_zonenetwork_postgres-dns_[A-Z0-9]+id\}$/);
    });

    it.each(ENVIRONMENTS)("%s turns public network access off explicitly", (env) => {
      expect(server(env).public_network_access_enabled).toBe(false);
    });

    it.each(ENVIRONMENTS)("%s enforces TLS and logs connections", (env) => {
      const parameters = Object.fromEntries(Object.values(resourcesOf(stacks[env], "azurerm_postgresql_flexible_server_configuration")).map((p) => [p.name, p.value]));
      expect(parameters).toMatchObject({ require_secure_transport: "on", log_connections: "on" });
    });

    it.each(ENVIRONMENTS)("%s accepts Microsoft Entra and password authentication, with an Entra administrator", (env) => {
      expect(server(env).authentication).toMatchObject({ active_directory_auth_enabled: true, password_auth_enabled: true });
      expect(onlyResource(stacks[env], "azurerm_postgresql_flexible_server_active_directory_administrator")).toMatchObject({
        object_id: "00000000-0000-4000-8000-000000000002",
        principal_name: "platform-dba",
        principal_type: "Group",
      });
    });

    it("rounds storage up to a size Flexible Server offers", () => {
      expect(ENVIRONMENTS.map((env) => server(env).storage_mb)).toEqual([32768, 65536, 131072]);
    });

    it("production is zone-redundant, geo-backed-up, keeps 35 days and survives destroy", () => {
      expect(server("production")).toMatchObject({
        high_availability: { mode: "ZoneRedundant" },
        geo_redundant_backup_enabled: true,
        backup_retention_days: 35,
        lifecycle: { prevent_destroy: true },
      });
      expect(onlyResource(stacks.production, "azurerm_postgresql_flexible_server_database").lifecycle.prevent_destroy).toBe(true);
    });

    it("production keeps backups in its own region when geo-redundancy is turned off", () => {
      const other = synthesize(validateConfig(configWith((r) => (r.clouds.azure.postgres.geoRedundantBackup = false))), { only: "azure" });
      try {
        expect(onlyResource(other.stack(stackOf("production")), "azurerm_postgresql_flexible_server").geo_redundant_backup_enabled).toBe(false);
      } finally {
        other.cleanup();
      }
    });

    it("develop has no standby, no geo-redundant backups and no destroy protection", () => {
      const develop = server("develop");
      expect(develop.high_availability).toBeUndefined();
      expect(develop.geo_redundant_backup_enabled).toBe(false);
      expect(develop.backup_retention_days).toBe(7);
      expect(develop.lifecycle.prevent_destroy).toBe(false);
    });
  });

  describe("the administrator password", () => {
    it.each(ENVIRONMENTS)("%s is generated into a write-only Key Vault secret", (env) => {
      const secret = onlyResource(stacks[env], "azurerm_key_vault_secret");
      expect(secret.value).toBeUndefined();
      expect(secret.value_wo).toBe("Pg-${uuid()}");
      expect(secret.value_wo_version).toBe(1);
      expect(secret.key_vault_id).toMatch(/cross-stack-output-azurerm_key_vaultkey-vault_[A-Z0-9]+id\}$/);
    });

    it.each(ENVIRONMENTS)("%s reaches the server only as an ephemeral read of that secret", (env) => {
      const s = stacks[env] as TerraformJson & { ephemeral?: Record<string, Record<string, any>> };
      const reads = Object.entries(s.ephemeral?.azurerm_key_vault_secret ?? {});
      expect(reads).toHaveLength(1);
      const [name, read] = reads[0];
      const secretId = Object.keys(resourcesOf(s, "azurerm_key_vault_secret"))[0];
      expect(read).toEqual({
        name: `\${azurerm_key_vault_secret.${secretId}.name}`,
        key_vault_id: `\${azurerm_key_vault_secret.${secretId}.key_vault_id}`,
        version: `\${azurerm_key_vault_secret.${secretId}.version}`,
      });
      expect(server(env).administrator_password).toBeUndefined();
      expect(server(env).administrator_password_wo).toBe(`\${ephemeral.azurerm_key_vault_secret.${name}.value}`);
      expect(server(env).administrator_login).toBe(POSTGRES_ADMIN_LOGIN);
    });

    it("never appears in plaintext in any synthesized Azure stack", () => {
      const azureStacks = Object.keys(synth.manifest.stacks).filter((id) => id.startsWith("azure-"));
      const literals = azureStacks.flatMap((id) => {
        const { resource, ephemeral } = synth.stack(id) as TerraformJson & { ephemeral?: unknown };
        return secretLikeFields({ resource, ephemeral })
          .filter(({ path, value }) => /password|_wo$/i.test(path) && !/^(Pg-)?\$\{[^}]+\}$/.test(value))
          .map(({ path }) => `${id}${path}`);
      });
      expect(literals).toEqual([]);
      expect(synth.allText()).not.toMatch(/"(administrator_)?password"\s*:/);
      const storedValues = azureStacks.flatMap((id) => Object.values(resourcesOf(synth.stack(id), "azurerm_key_vault_secret")).filter((secret) => "value" in secret));
      expect(storedValues).toEqual([]);
    });
  });

  describe("delete locks", () => {
    it("locks production's server and backup instance against deletion by any tool, the backup's lock kept through a destroy", () => {
      const s = stacks.production;
      const locks = resourcesOf(s, "azurerm_management_lock");
      // Production's object storage has a lock of its own (object-storage.test.ts).
      expect(Object.values(locks).filter((lock) => lock.name === "protect-production-data").map((lock) => [lock.name, lock.lock_level, lock.scope])).toEqual([
        ["protect-production-data", "CanNotDelete", `\${azurerm_data_protection_backup_instance_postgresql_flexible_server.${Object.keys(resourcesOf(s, "azurerm_data_protection_backup_instance_postgresql_flexible_server"))[0]}.id}`],
        ["protect-production-data", "CanNotDelete", `\${azurerm_postgresql_flexible_server.${Object.keys(resourcesOf(s, "azurerm_postgresql_flexible_server"))[0]}.id}`],
      ]);
      expect(locks["backup-lock"].lifecycle.prevent_destroy).toBe(true);
    });

    it.each(["develop", "staging"])("leaves %s unlocked, so it can be destroyed", (env) => {
      expect(resourcesOf(stacks[env], "azurerm_management_lock")).toEqual({});
    });
  });

  describe("backups", () => {
    it.each(ENVIRONMENTS)("%s keeps point-in-time restore on the server for the hourly tier", (env) => {
      const retention = loadConfig(EXAMPLE_CONFIG_PATH).environments.find((e) => e.name === env)!.database.backupRetentionDays;
      expect(server(env).backup_retention_days).toBe(retention);
    });

    it.each(ENVIRONMENTS)("%s has a backup vault with a system identity and the configured redundancy", (env) => {
      expect(onlyResource(stacks[env], "azurerm_data_protection_backup_vault")).toMatchObject({
        datastore_type: "VaultStore",
        redundancy: "GeoRedundant",
        identity: { type: "SystemAssigned" },
      });
    });

    it("keeps production's deleted backups 14 days and its vault immutable as configured", () => {
      const vault = onlyResource(stacks.production, "azurerm_data_protection_backup_vault");
      expect({ soft_delete: vault.soft_delete, retention: vault.retention_duration_in_days, immutability: vault.immutability }).toEqual({
        soft_delete: "On",
        retention: 14,
        immutability: "Unlocked",
      });
    });

    it.each(["develop", "staging"])("turns soft delete and immutability off in %s, so destroying it frees the vault at once", (env) => {
      const vault = onlyResource(stacks[env], "azurerm_data_protection_backup_vault");
      expect({ soft_delete: vault.soft_delete, retention: vault.retention_duration_in_days, immutability: vault.immutability }).toEqual({
        soft_delete: "Off",
        retention: undefined,
        immutability: "Disabled",
      });
    });

    it("applies a Locked immutability to production alone", () => {
      const other = synthesize(validateConfig(configWith((r) => (r.clouds.azure.backup = { ...r.clouds.azure.backup, immutability: "Locked" }))), { only: "azure" });
      try {
        const immutability = (env: string) => onlyResource(other.stack(`azure-${env}-data`), "azurerm_data_protection_backup_vault").immutability;
        expect(ENVIRONMENTS.map((env) => [env, immutability(env)])).toEqual([
          ["develop", "Disabled"],
          ["staging", "Disabled"],
          ["production", "Locked"],
        ]);
      } finally {
        other.cleanup();
      }
    });

    it.each(ENVIRONMENTS)("%s backs up daily, keeps dailies a year and the first of each month seven years", (env) => {
      const policy = onlyResource(stacks[env], "azurerm_data_protection_backup_policy_postgresql_flexible_server");
      expect(policy.backup_repeating_time_intervals).toEqual(["R/2025-01-01T02:00:00+00:00/P1D"]);
      expect(policy.default_retention_rule).toEqual({ life_cycle: [{ data_store_type: "VaultStore", duration: "P365D" }] });
      expect(policy.retention_rule).toEqual([
        { name: "monthly", priority: 25, criteria: { absolute_criteria: "FirstOfMonth" }, life_cycle: [{ data_store_type: "VaultStore", duration: "P2555D" }] },
      ]);
    });

    it.each(ENVIRONMENTS)("%s registers the server with the policy once the vault may read it", (env) => {
      const s = stacks[env];
      const instance = onlyResource(s, "azurerm_data_protection_backup_instance_postgresql_flexible_server");
      const serverId = Object.keys(resourcesOf(s, "azurerm_postgresql_flexible_server"))[0];
      expect(instance.server_id).toBe(`\${azurerm_postgresql_flexible_server.${serverId}.id}`);
      expect(instance.backup_policy_id).toMatch(/^\$\{azurerm_data_protection_backup_policy_postgresql_flexible_server\./);
      const vaultPrincipal = `\${azurerm_data_protection_backup_vault.${Object.keys(resourcesOf(s, "azurerm_data_protection_backup_vault"))[0]}.identity[0].principal_id}`;
      // Production's vault also backs up the applications' storage accounts (object-storage.test.ts).
      const grants = Object.entries(resourcesOf(s, "azurerm_role_assignment")).filter(([, r]) => r.principal_id === vaultPrincipal && r.role_definition_name !== "Storage Account Backup Contributor");
      expect(grants.map(([, r]) => [r.role_definition_name, r.scope]).sort()).toEqual([
        ["PostgreSQL Flexible Server Long Term Retention Backup Role", `\${azurerm_postgresql_flexible_server.${serverId}.id}`],
        ["Reader", "${azurerm_resource_group.resource-group.id}"],
      ]);
      expect(instance.depends_on).toEqual(expect.arrayContaining(grants.map(([id]) => `azurerm_role_assignment.${id}`)));
    });

    it("protects production's vault and instance from destroy, and no one else's; no policy, which a retention change replaces", () => {
      const protectedTypes = (env: string) =>
        ["azurerm_data_protection_backup_vault", "azurerm_data_protection_backup_policy_postgresql_flexible_server", "azurerm_data_protection_backup_instance_postgresql_flexible_server"].map(
          (type) => onlyResource(stacks[env], type).lifecycle.prevent_destroy,
        );
      expect(protectedTypes("production")).toEqual([true, undefined, true]);
      expect(protectedTypes("develop")).toEqual([false, undefined, false]);
    });
  });

  describe("the application identity", () => {
    it.each(ENVIRONMENTS)("%s federates the environment's app service account", (env) => {
      expect(appIdentity(stacks[env], "azurerm_federated_identity_credential")).toMatchObject({
        subject: `system:serviceaccount:${env}:app`,
        audience: ["api://AzureADTokenExchange"],
        issuer: expect.stringMatching(/oidc_issuer_url\}$/),
      });
    });

    it.each(ENVIRONMENTS)("%s may read its own database password and nothing else", (env) => {
      const s = stacks[env];
      const identityId = Object.keys(resourcesOf(s, "azurerm_user_assigned_identity")).find((id) => id.startsWith("app-identity_"))!;
      const secretId = Object.keys(resourcesOf(s, "azurerm_key_vault_secret"))[0];
      const grants = Object.values(resourcesOf(s, "azurerm_role_assignment")).filter((r) => r.principal_id === `\${azurerm_user_assigned_identity.${identityId}.principal_id}`);
      expect(grants.map((r) => [r.role_definition_name, r.scope])).toEqual([
        ["Key Vault Secrets User", `\${azurerm_key_vault_secret.${secretId}.resource_versionless_id}`],
      ]);
    });
  });

  it.each(ENVIRONMENTS)("%s tags its resources with its environment", (env) => {
    for (const type of ["azurerm_resource_group", "azurerm_postgresql_flexible_server", "azurerm_data_protection_backup_vault", "azurerm_key_vault_secret", "azurerm_user_assigned_identity", "azurerm_storage_account"]) {
      for (const resource of Object.values(resourcesOf(stacks[env], type))) {
        expect(resource.tags, type).toEqual({ environment: env, "managed-by": "cdktf", project: "acme", "cost-center": "platform" });
      }
    }
  });
});
