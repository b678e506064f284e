import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App, TerraformResource, TerraformStack } from "cdktf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE_CONFIG_PATH, loadConfig } from "../config";
import { AKS_ENTRA_SERVER_ID } from "../constructs/azure/aks-cluster";
import { IN_CLUSTER } from "../constructs/contract";
import { buildAzure } from "../stacks/azure";
import { configWith, onlyResource, resourcesOf, synthesize, validateConfig, type Synthesized, type TerraformJson } from "./support/synth";

const STACK = "azure-platform";

/** Role assignments as `role -> scope -> principal`, readable in a failure diff. */
function roleAssignments(stack: TerraformJson): { role: string; scope: string; principal: string }[] {
  return Object.values(resourcesOf(stack, "azurerm_role_assignment")).map((r) => ({ role: r.role_definition_name, scope: r.scope, principal: r.principal_id }));
}

describe("azure-platform", () => {
  let synth: Synthesized;
  let stack: TerraformJson;
  let aks: any;
  const azure = loadConfig(EXAMPLE_CONFIG_PATH).clouds.azure!;

  beforeAll(() => {
    synth = synthesize();
    stack = synth.stack(STACK);
    aks = onlyResource(stack, "azurerm_kubernetes_cluster");
  });
  afterAll(() => synth?.cleanup());

  it("matches the reviewed snapshot", async () => {
    await expect(JSON.stringify(stack, null, 2)).toMatchFileSnapshot(`./__snapshots__/${STACK}.tf.json`);
  });

  describe("provider and state", () => {
    it("uses azurerm alone, with the subscription left to ARM_SUBSCRIPTION_ID", () => {
      expect(Object.keys(stack.provider ?? {})).toEqual(["azurerm"]);
      const provider = stack.provider!.azurerm[0];
      expect(provider.subscription_id).toBeUndefined();
      expect(provider.features).toHaveLength(1);
      expect(provider.resource_provider_registrations).toBe("none");
    });

    it("keeps its state in the container azure-bootstrap creates, with Entra ID auth", () => {
      expect(stack.terraform?.backend).toEqual({
        azurerm: { resource_group_name: "acme-platform-bootstrap", storage_account_name: "acmeplatformtfstate", container_name: "tfstate", key: "platform/azure-platform.tfstate", use_azuread_auth: true },
      });
    });

    it("keeps state in Azure Storage with Entra ID auth when a backend is configured", () => {
      const config = validateConfig(
        configWith((r) => (r.clouds.azure.stateBackend = { resourceGroupName: "tfstate", storageAccountName: "acmetfstate", containerName: "tfstate" })),
      );
      const other = synthesize(config, { only: "azure" });
      try {
        expect(other.stack(STACK).terraform?.backend).toEqual({
          azurerm: { resource_group_name: "tfstate", storage_account_name: "acmetfstate", container_name: "tfstate", key: "platform/azure-platform.tfstate", use_azuread_auth: true },
        });
      } finally {
        other.cleanup();
      }
    });

  });

  describe("network", () => {
    it("delegates the Postgres subnet to Flexible Server", () => {
      const subnets = Object.values(resourcesOf(stack, "azurerm_subnet"));
      const postgres = subnets.find((s) => s.name === "postgres");
      expect(postgres.address_prefixes).toEqual([azure.network.postgresSubnetCidr]);
      expect(postgres.delegation[0].service_delegation.name).toBe("Microsoft.DBforPostgreSQL/flexibleServers");
      const nodes = subnets.find((s) => s.name === "nodes");
      expect(nodes.address_prefixes).toEqual([azure.network.nodesSubnetCidr]);
      expect(nodes.delegation).toBeUndefined();
    });

    it("links a private DNS zone for Postgres to the VNet", () => {
      const zone = onlyResource(stack, "azurerm_private_dns_zone");
      expect(zone.name).toBe("acme-platform.private.postgres.database.azure.com");
      const link = onlyResource(stack, "azurerm_private_dns_zone_virtual_network_link");
      expect(link.virtual_network_id).toMatch(/^\$\{azurerm_virtual_network\.[^.]+\.id\}$/);
      expect(link.registration_enabled).toBe(false);
    });
  });

  describe("AKS", () => {
    it("takes the tenant from the signed-in client unless the config names it", () => {
      expect(aks.azure_active_directory_role_based_access_control.tenant_id).toBe("${data.azurerm_client_config.client.tenant_id}");
      const tenantId = "11111111-2222-4333-8444-555555555555";
      const other = synthesize(validateConfig(configWith((r) => (r.clouds.azure.tenantId = tenantId))), { only: "azure" });
      try {
        const s = other.stack(STACK);
        expect(onlyResource(s, "azurerm_kubernetes_cluster").azure_active_directory_role_based_access_control.tenant_id).toBe(tenantId);
        expect(onlyResource(s, "azurerm_key_vault").tenant_id).toBe(tenantId);
      } finally {
        other.cleanup();
      }
    });

    it("runs the configured version", () => {
      expect(aks.kubernetes_version).toBe(azure.cluster.version);
    });

    it("disables local accounts", () => {
      expect(aks.local_account_disabled).toBe(true);
    });

    it("authorizes with Entra ID and Azure RBAC, admin groups from config", () => {
      expect(aks.azure_active_directory_role_based_access_control).toMatchObject({
        azure_rbac_enabled: true,
        admin_group_object_ids: azure.cluster.adminGroupObjectIds,
      });
      expect(aks.role_based_access_control_enabled).toBe(true);
    });

    it("limits the API server to the authorized ranges", () => {
      expect(aks.api_server_access_profile.authorized_ip_ranges).toEqual(["203.0.113.0/24"]);
      expect(aks.private_cluster_enabled).toBeUndefined();
    });

    it("issues OIDC tokens for workload identity", () => {
      expect(aks.oidc_issuer_enabled).toBe(true);
      expect(aks.workload_identity_enabled).toBe(true);
    });

    it("uses Azure CNI overlay with Cilium network policy", () => {
      expect(aks.network_profile).toMatchObject({
        network_plugin: "azure",
        network_plugin_mode: "overlay",
        network_policy: "cilium",
        network_data_plane: "cilium",
        pod_cidr: "192.168.0.0/16",
        service_cidr: "172.20.0.0/16",
        dns_service_ip: "172.20.0.10",
      });
    });

    it("keeps the autoscaling system pool for critical add-ons only", () => {
      expect(aks.default_node_pool).toMatchObject({ only_critical_addons_enabled: true, auto_scaling_enabled: true, min_count: 2, max_count: 3, vm_size: "Standard_D4ds_v5" });
    });

    it("adds an autoscaling user pool", () => {
      expect(onlyResource(stack, "azurerm_kubernetes_cluster_node_pool")).toMatchObject({ mode: "User", auto_scaling_enabled: true, min_count: 2, max_count: 6 });
    });

    it("upgrades automatically inside the maintenance window", () => {
      expect(aks.automatic_upgrade_channel).toBe("patch");
      expect(aks.maintenance_window_auto_upgrade).toEqual({ frequency: "Weekly", interval: 1, day_of_week: "Sunday", start_time: "02:00", duration: 4, utc_offset: "+00:00" });
    });

    it("sends monitoring to the Log Analytics workspace", () => {
      expect(aks.oms_agent.log_analytics_workspace_id).toMatch(/^\$\{azurerm_log_analytics_workspace\.[^.]+\.id\}$/);
      expect(aks.oms_agent.msi_auth_for_monitoring_enabled).toBe(true);
    });

    it("runs the Key Vault secrets provider with rotation and Azure Policy", () => {
      expect(aks.key_vault_secrets_provider.secret_rotation_enabled).toBe(true);
      expect(aks.azure_policy_enabled).toBe(true);
    });

    it("pays for the uptime SLA because production runs on it", () => {
      expect(aks.sku_tier).toBe("Standard");
    });

    it("stays on the Free tier with no production environment", () => {
      const config = validateConfig(configWith((r) => (r.environments = r.environments.filter((e: any) => e.name !== "production"))));
      const other = synthesize(config, { only: "azure" });
      try {
        expect(onlyResource(other.stack(STACK), "azurerm_kubernetes_cluster").sku_tier).toBe("Free");
      } finally {
        other.cleanup();
      }
    });
  });

  describe("ACR", () => {
    it("allows neither the admin user nor anonymous pulls", () => {
      const acr = onlyResource(stack, "azurerm_container_registry");
      expect(acr.admin_enabled).toBe(false);
      expect(acr.anonymous_pull_enabled).toBe(false);
    });

    it("applies the Premium options from config", () => {
      expect(onlyResource(stack, "azurerm_container_registry")).toMatchObject({ sku: "Premium", retention_policy_in_days: 7, zone_redundancy_enabled: true, public_network_access_enabled: true });
      expect(resourcesOf(stack, "azurerm_private_endpoint")).toEqual({});
    });

    it("goes private behind an endpoint when privateAccess is set", () => {
      const other = synthesize(validateConfig(configWith((r) => (r.clouds.azure.registry.privateAccess = true))), { only: "azure" });
      try {
        const s = other.stack(STACK);
        expect(onlyResource(s, "azurerm_container_registry").public_network_access_enabled).toBe(false);
        expect(onlyResource(s, "azurerm_private_endpoint").private_service_connection.subresource_names).toEqual(["registry"]);
      } finally {
        other.cleanup();
      }
    });

    it("lets the kubelet identity pull", () => {
      expect(roleAssignments(stack)).toContainEqual({
        role: "AcrPull",
        scope: expect.stringMatching(/^\$\{azurerm_container_registry\./),
        principal: expect.stringMatching(/kubelet_identity\[0\]\.object_id\}$/),
      });
    });
  });

  describe("Key Vault", () => {
    it("uses RBAC, purge protection and soft delete, and survives destroy", () => {
      expect(onlyResource(stack, "azurerm_key_vault")).toMatchObject({
        rbac_authorization_enabled: true,
        purge_protection_enabled: true,
        soft_delete_retention_days: 90,
        lifecycle: { prevent_destroy: true },
      });
      expect(onlyResource(stack, "azurerm_key_vault").access_policy).toBeUndefined();
    });

    it("lets External Secrets and the review identity alone read the vault's secrets, not the secrets provider add-on", () => {
      const readers = roleAssignments(stack).filter((r) => r.scope.startsWith("${azurerm_key_vault.") && r.role !== "Key Vault Secrets Officer");
      expect(readers).toEqual([
        { role: "Key Vault Secrets User", scope: expect.any(String), principal: expect.stringMatching(/^\$\{azurerm_user_assigned_identity\.aks_external-secrets_identity_\w+\.principal_id\}$/) },
        { role: "Key Vault Secrets User", scope: expect.any(String), principal: expect.stringMatching(/^\$\{data\.azurerm_user_assigned_identity\.ci-access_review_\w+\.principal_id\}$/) },
      ]);
      expect(JSON.stringify(roleAssignments(stack))).not.toContain("key_vault_secrets_provider");
    });
  });

  describe("workload identities", () => {
    it.each([
      [IN_CLUSTER.flux.namespace, IN_CLUSTER.flux.imageReflectorServiceAccount, "AcrPull", "azurerm_container_registry"],
      [IN_CLUSTER.externalSecrets.namespace, IN_CLUSTER.externalSecrets.serviceAccount, "Key Vault Secrets User", "azurerm_key_vault"],
      [IN_CLUSTER.externalDns.namespace, IN_CLUSTER.externalDns.serviceAccount, "DNS Zone Contributor", "azurerm_dns_zone"],
      [IN_CLUSTER.certManager.namespace, IN_CLUSTER.certManager.serviceAccount, "DNS Zone Contributor", "azurerm_dns_zone"],
    ])("federates %s/%s and grants %s", (namespace, serviceAccount, role, scopeType) => {
      const credential = Object.values(resourcesOf(stack, "azurerm_federated_identity_credential")).find((c) => c.subject === `system:serviceaccount:${namespace}:${serviceAccount}`);
      expect(credential.issuer).toMatch(/oidc_issuer_url\}$/);
      expect(credential.audience).toEqual(["api://AzureADTokenExchange"]);
      const identity = credential.parent_id.replace(/\.id\}$/, "");
      expect(roleAssignments(stack)).toContainEqual({ role, scope: expect.stringMatching(new RegExp(`^\\$\\{${scopeType}\\.`)), principal: `${identity}.principal_id}` });
    });
  });

  it("sends alerts to the configured e-mail receivers", () => {
    expect(onlyResource(stack, "azurerm_monitor_action_group").email_receiver).toEqual([
      { name: "email-0", email_address: "platform-alerts@example.com", use_common_alert_schema: true },
    ]);
  });
});

describe("standard tags on every Azure stack", () => {
  /** A resource whose generated class has a settable `tags` argument, i.e. whose provider schema has `tags`. */
  const hasTagsArgument = (resource: TerraformResource): boolean => {
    for (let proto = Object.getPrototypeOf(resource); proto && proto !== TerraformResource.prototype; proto = Object.getPrototypeOf(proto)) {
      const tags = Object.getOwnPropertyDescriptor(proto, "tags");
      if (tags) return typeof tags.set === "function";
    }
    return false;
  };

  const outdir = mkdtempSync(path.join(tmpdir(), "azure-tags-"));
  const config = loadConfig(EXAMPLE_CONFIG_PATH);
  const app = new App({ outdir });
  buildAzure(app, config, config.clouds.azure!);
  app.synth();
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  const walked = app.node.children
    .filter((stack): stack is TerraformStack => stack instanceof TerraformStack)
    .flatMap((stack) => {
      const json: TerraformJson = JSON.parse(readFileSync(path.join(outdir, "stacks", stack.node.id, "cdk.tf.json"), "utf8"));
      return stack.node
        .findAll()
        .filter((node): node is TerraformResource => node instanceof TerraformResource)
        .map((resource) => ({
          stack: stack.node.id,
          address: `${resource.terraformResourceType}.${resource.friendlyUniqueId}`,
          taggable: hasTagsArgument(resource),
          tags: json.resource![resource.terraformResourceType][resource.friendlyUniqueId].tags,
        }));
    });

  it("walks every stack of the Azure deployment, taggable and untaggable resources alike", () => {
    expect([...new Set(walked.map((r) => r.stack))].sort()).toEqual(["azure-develop-data", "azure-platform", "azure-production-data", "azure-staging-data"]);
    expect(walked.filter((r) => !r.taggable).map((r) => r.address)).toContainEqual(expect.stringMatching(/^azurerm_role_assignment\./));
    expect(walked.filter((r) => r.taggable).length).toBeGreaterThan(20);
  });

  it("tags every resource whose schema has tags with environment, managed-by, project and the config's tags", () => {
    const taggable = walked.filter((r) => r.taggable);
    const environmentOf = (stack: string) => (stack === "azure-platform" ? "platform" : stack.replace(/^azure-(.+)-data$/, "$1"));
    expect(taggable.map((r) => ({ address: r.address, tags: r.tags }))).toEqual(
      taggable.map((r) => ({ address: r.address, tags: { environment: environmentOf(r.stack), "managed-by": "cdktf", project: "acme", "cost-center": "platform" } })),
    );
  });

  it("puts tags on nothing whose schema lacks them", () => {
    expect(walked.filter((r) => !r.taggable && r.tags !== undefined)).toEqual([]);
  });
});

describe("the Azure side of the contract", () => {
  const config = loadConfig(EXAMPLE_CONFIG_PATH);
  const deployment = buildAzure(new App(), config, config.clouds.azure!);
  const platform = deployment.platform;

  it("reaches the cluster with kubelogin and Entra ID tokens, never a static credential", () => {
    expect(platform.cluster.exec).toEqual({
      apiVersion: "client.authentication.k8s.io/v1beta1",
      command: "kubelogin",
      args: ["get-token", "--login", "azurecli", "--server-id", AKS_ENTRA_SERVER_ID],
    });
  });

  it("uses the storage class AKS already has", () => {
    expect(platform.storageClass).toEqual({ name: "managed-csi" });
  });

  it("gives Flux the azure provider and one repository per application under the project", () => {
    expect(platform.registry.fluxProvider).toBe("azure");
    expect(Object.keys(platform.registry.repositories)).toEqual(["web", "api"]);
    expect(platform.registry.repositories.web).toMatch(/\/acme\/web$/);
  });

  it("labels workload identity pods and annotates service accounts with a client id", () => {
    for (const identity of [platform.identities.fluxImageReflector, platform.identities.externalSecrets]) {
      expect(identity.podLabels).toEqual({ "azure.workload.identity/use": "true" });
      expect(Object.keys(identity.serviceAccountAnnotations)).toEqual(["azure.workload.identity/client-id"]);
    }
  });

  it("points the cluster secret store at Key Vault as the External Secrets service account", () => {
    expect(platform.clusterSecretStore).toMatchObject({
      azurekv: { authType: "WorkloadIdentity", serviceAccountRef: { name: "external-secrets", namespace: "external-secrets" } },
    });
  });

  it("names every environment's database", () => {
    expect(Object.keys(deployment.databases)).toEqual(["develop", "staging", "production"]);
  });
});
