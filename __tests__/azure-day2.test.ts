import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTAINER_INSIGHTS_STREAMS } from "../constructs/azure/container-insights";
import { POSTGRES_ADMIN_LOGIN } from "../constructs/azure/postgres";
import { configWith, onlyResource, resourcesOf, synthesize, validateConfig, type Synthesized, type TerraformJson } from "./support/synth";

/**
 * What a later apply does to the Azure stacks, as the pinned azurerm
 * provider reads their configuration: growth, drift and config changes must
 * update in place, never replace, and the first apply must not race Azure.
 */

const ENVIRONMENTS = ["develop", "staging", "production"] as const;
const data = (env: string) => `azure-${env}-data`;
const ref = (type: string, stack: TerraformJson) => `${type}.${Object.keys(resourcesOf(stack, type))[0]}`;

/** Synthesizes a changed default config and hands the stacks to `check`. */
function withConfig(change: (raw: any) => void, check: (synth: Synthesized) => void): void {
  const other = synthesize(validateConfig(configWith(change)), { only: "azure" });
  try {
    check(other);
  } finally {
    other.cleanup();
  }
}

describe("Azure stacks on day 2", () => {
  let synth: Synthesized;
  let platform: TerraformJson;
  const stacks: Record<string, TerraformJson> = {};

  beforeAll(() => {
    synth = synthesize();
    platform = synth.stack("azure-platform");
    for (const env of ENVIRONMENTS) stacks[env] = synth.stack(data(env));
  });
  afterAll(() => synth?.cleanup());

  describe("Flexible Server storage", () => {
    it.each(ENVIRONMENTS)("%s grows automatically and never compares storage again, so growth cannot replace the server", (env) => {
      const server = onlyResource(stacks[env], "azurerm_postgresql_flexible_server");
      expect(server.auto_grow_enabled).toBe(true);
      expect(server.lifecycle.ignore_changes).toEqual(expect.arrayContaining(["storage_mb", "storage_tier"]));
    });

    it("a smaller storageGb in config changes the configured size but not what Terraform compares", () => {
      withConfig(
        (r) => (r.environments[2].database.storageGb = 50),
        (other) => {
          const before = onlyResource(stacks.production, "azurerm_postgresql_flexible_server");
          const after = onlyResource(other.stack(data("production")), "azurerm_postgresql_flexible_server");
          expect([before.storage_mb, after.storage_mb]).toEqual([131072, 65536]);
          expect(after.lifecycle.ignore_changes).toEqual(before.lifecycle.ignore_changes);
        },
      );
    });
  });

  describe("AKS upgrade settings", () => {
    const pools = (stack: TerraformJson) => [
      onlyResource(stack, "azurerm_kubernetes_cluster").default_node_pool.upgrade_settings,
      onlyResource(stack, "azurerm_kubernetes_cluster_node_pool").upgrade_settings,
    ];

    it("sends every upgrade setting explicitly on both pools, so none is ever sent as 0 or empty", () => {
      expect(pools(platform)).toEqual([
        { max_surge: "33%", drain_timeout_in_minutes: 30, node_soak_duration_in_minutes: 0, undrainable_node_behavior: "Schedule" },
        { max_surge: "33%", drain_timeout_in_minutes: 30, node_soak_duration_in_minutes: 0, undrainable_node_behavior: "Schedule" },
      ]);
    });

    it("takes them from cluster.upgradeSettings", () => {
      withConfig(
        (r) => (r.clouds.azure.cluster.upgradeSettings = { maxSurge: "1", drainTimeoutMinutes: 45, nodeSoakDurationMinutes: 5, undrainableNodeBehavior: "Cordon" }),
        (other) => {
          for (const settings of pools(other.stack("azure-platform"))) {
            expect(settings).toEqual({ max_surge: "1", drain_timeout_in_minutes: 45, node_soak_duration_in_minutes: 5, undrainable_node_behavior: "Cordon" });
          }
        },
      );
    });
  });

  describe("Container Insights", () => {
    it("collects the Container Insights streams into the workspace the monitoring add-on names", () => {
      const cluster = onlyResource(platform, "azurerm_kubernetes_cluster");
      const rule = onlyResource(platform, "azurerm_monitor_data_collection_rule");
      const [destination] = rule.destinations.log_analytics;
      expect(destination.workspace_resource_id).toBe(cluster.oms_agent.log_analytics_workspace_id);
      expect(cluster.oms_agent.msi_auth_for_monitoring_enabled).toBe(true);
      expect(rule.data_flow).toEqual([{ streams: CONTAINER_INSIGHTS_STREAMS, destinations: [destination.name] }]);
      const [extension] = rule.data_sources.extension;
      expect(extension).toMatchObject({ extension_name: "ContainerInsights", streams: CONTAINER_INSIGHTS_STREAMS });
      expect(JSON.parse(extension.extension_json).dataCollectionSettings).toMatchObject({ enableContainerLogV2: true });
    });

    it("associates the rule with the cluster", () => {
      expect(onlyResource(platform, "azurerm_monitor_data_collection_rule_association")).toMatchObject({
        name: "ContainerInsightsExtension",
        target_resource_id: `\${${ref("azurerm_kubernetes_cluster", platform)}.id}`,
        data_collection_rule_id: `\${${ref("azurerm_monitor_data_collection_rule", platform)}.id}`,
      });
    });
  });

  describe("backup policy changes", () => {
    const policyOf = (stack: TerraformJson) => onlyResource(stack, "azurerm_data_protection_backup_policy_postgresql_flexible_server");

    it.each(ENVIRONMENTS)("%s names its policy after its settings and replaces it create-before-destroy, never protected from it", (env) => {
      expect(policyOf(stacks[env]).name).toBe(`acme-${env}-daily365d-monthly2555d`);
      expect(policyOf(stacks[env]).lifecycle).toEqual({ create_before_destroy: true });
    });

    it("a retention change gives every policy a new name, and each instance follows its policy", () => {
      withConfig(
        (r) => (r.clouds.azure.backup = { ...r.clouds.azure.backup, dailyRetentionDays: 180 }),
        (other) => {
          for (const env of ENVIRONMENTS) {
            const after = other.stack(data(env));
            expect([policyOf(stacks[env]).name, policyOf(after).name]).toEqual([`acme-${env}-daily365d-monthly2555d`, `acme-${env}-daily180d-monthly2555d`]);
            expect(policyOf(after).lifecycle).toEqual({ create_before_destroy: true });
            // The same logical resource: the instance is updated to the new policy's id, not replaced.
            const instance = onlyResource(after, "azurerm_data_protection_backup_instance_postgresql_flexible_server");
            expect(instance.backup_policy_id).toBe(`\${${ref("azurerm_data_protection_backup_policy_postgresql_flexible_server", stacks[env])}.id}`);
          }
        },
      );
    });
  });

  describe("administrator password rotation", () => {
    it.each(ENVIRONMENTS)("%s gives the server and the secret the same version, so a bump sends the new password", (env) => {
      const server = onlyResource(stacks[env], "azurerm_postgresql_flexible_server");
      const secret = onlyResource(stacks[env], "azurerm_key_vault_secret");
      expect(server.administrator_login).toBe(POSTGRES_ADMIN_LOGIN);
      expect([server.administrator_password_wo_version, secret.value_wo_version]).toEqual([1, 1]);
    });

    it("a bump of adminPasswordVersion (also the recovery from a failed rotation) moves both", () => {
      withConfig(
        (r) => (r.clouds.azure.postgres.adminPasswordVersion = 3),
        (other) => {
          for (const env of ENVIRONMENTS) {
            const stack = other.stack(data(env));
            expect([onlyResource(stack, "azurerm_postgresql_flexible_server").administrator_password_wo_version, onlyResource(stack, "azurerm_key_vault_secret").value_wo_version]).toEqual([3, 3]);
          }
        },
      );
    });
  });

  describe("production's delete locks", () => {
    const locks = () => resourcesOf(stacks.production, "azurerm_management_lock");
    const serverRef = () => `\${${ref("azurerm_postgresql_flexible_server", stacks.production)}`;

    /** Every resource of the stack Azure places under the server: its id, name or scope points at it. */
    const underServer = () =>
      Object.entries(stacks.production.resource ?? {}).flatMap(([type, resources]) =>
        Object.entries(resources)
          .filter(([, r]) => (type.startsWith("azurerm_postgresql_flexible_server_") || type === "azurerm_role_assignment") && [r.server_id, r.scope, r.server_name].some((v) => typeof v === "string" && v.startsWith(serverRef())))
          .map(([name]) => `${type}.${name}`),
      );

    it("locks the server and the backup instance, not the resource group", () => {
      const scopes = Object.values(locks())
        .filter((lock) => lock.name === "protect-production-data")
        .map((lock) => [lock.name, lock.lock_level, lock.scope]);
      expect(scopes).toEqual(
        expect.arrayContaining([
          ["protect-production-data", "CanNotDelete", `${serverRef()}.id}`],
          ["protect-production-data", "CanNotDelete", `\${${ref("azurerm_data_protection_backup_instance_postgresql_flexible_server", stacks.production)}.id}`],
        ]),
      );
      expect(scopes).toHaveLength(2);
    });

    it("orders everything under the server before its lock, so a destroy lifts the lock first", () => {
      const held = underServer();
      expect(held).toEqual(
        expect.arrayContaining([ref("azurerm_postgresql_flexible_server_active_directory_administrator", stacks.production), ref("azurerm_postgresql_flexible_server_database", stacks.production)]),
      );
      expect(locks()["server-lock"].depends_on.sort()).toEqual(held.sort());
    });

    it("takes the server's lock off and puts it back around a replacement of the Entra administrator or the vault's role", () => {
      const triggers = locks()["server-lock"].lifecycle.replace_triggered_by;
      expect(triggers.sort()).toEqual(
        [ref("azurerm_postgresql_flexible_server_active_directory_administrator", stacks.production), ...underServer().filter((a) => a.startsWith("azurerm_role_assignment."))].sort(),
      );
      // Bare addresses: Terraform's JSON syntax rejects `${...}` in replace_triggered_by.
      for (const trigger of triggers) expect(trigger).toMatch(/^[a-z_]+\.[\w-]+$/);
      expect(locks()["server-lock"].lifecycle.prevent_destroy).toBeUndefined();
      expect(locks()["backup-lock"].lifecycle).toEqual({ prevent_destroy: true });
    });

    it("leaves the old backup policy deletable after a retention change: nothing locks the vault or the group", () => {
      const scopes = Object.values(locks()).map((lock) => lock.scope);
      for (const type of ["azurerm_resource_group", "azurerm_data_protection_backup_vault", "azurerm_data_protection_backup_policy_postgresql_flexible_server"]) {
        expect(scopes).not.toContain(`\${${ref(type, stacks.production)}.id}`);
      }
    });

    it.each(["develop", "staging"])("leaves %s unlocked", (env) => {
      expect(resourcesOf(stacks[env], "azurerm_management_lock")).toEqual({});
    });
  });

  describe("the production identity", () => {
    it("is Azure Kubernetes Service RBAC Cluster Admin on this cluster alone, whoever applies, so the add-ons and production can apply", () => {
      const grants = Object.entries(resourcesOf(platform, "azurerm_role_assignment")).filter(([, r]) => r.role_definition_name === "Azure Kubernetes Service RBAC Cluster Admin");
      expect(grants).toEqual([
        [
          // The address the applying identity's grant had: the grant moves to the production identity, once.
          "deployer-cluster-admin",
          expect.objectContaining({ principal_id: expect.stringMatching(/^\$\{data\.azurerm_user_assigned_identity\.ci-access_production_\w+\.principal_id\}$/), scope: `\${${ref("azurerm_kubernetes_cluster", platform)}.id}` }),
        ],
      ]);
      expect(JSON.stringify(resourcesOf(platform, "azurerm_role_assignment"))).not.toContain("azurerm_client_config");
    });
  });

  describe("the first backup instance", () => {
    it.each(ENVIRONMENTS)("%s waits for the vault's role assignments to take effect", (env) => {
      const s = stacks[env];
      const instance = onlyResource(s, "azurerm_data_protection_backup_instance_postgresql_flexible_server");
      // The server's wait; production's operational backups of object storage wait on their own.
      const [[waitName, wait]] = Object.entries(resourcesOf(s, "terraform_data")).filter(([name]) => name.startsWith("backup_"));
      const vaultPrincipal = `\${${ref("azurerm_data_protection_backup_vault", s)}.identity[0].principal_id}`;
      const grants = Object.entries(resourcesOf(s, "azurerm_role_assignment"))
        .filter(([, r]) => r.principal_id === vaultPrincipal && r.role_definition_name !== "Storage Account Backup Contributor")
        .map(([name]) => `azurerm_role_assignment.${name}`);
      expect(grants).toHaveLength(2);
      expect(Object.values(wait.triggers_replace).sort()).toEqual(grants.map((g) => `\${${g}.id}`).sort());
      expect(wait.provisioner).toEqual([{ "local-exec": { command: "sleep 300" } }]);
      expect(instance.depends_on.sort()).toEqual([...grants, `terraform_data.${waitName}`].sort());
    });
  });
});
