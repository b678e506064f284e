import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateConfig } from "../config";
import { problemOf } from "./support/config-problems";
import { configWith, onlyResource, resourcesOf, synthesize, type Synthesized, type TerraformJson } from "./support/synth";

const STACK = "azure-platform";

function platformOf(change: (raw: any) => void): TerraformJson {
  const synth = synthesize(validateConfig(configWith(change)), { only: "azure" });
  try {
    return synth.stack(STACK);
  } finally {
    synth.cleanup();
  }
}

/** Inbound rules of the security group on a subnet, by the subnet's construct id. */
function rulesOf(stack: TerraformJson, subnet: "nodes" | "postgres"): any[] {
  return Object.values(resourcesOf(stack, "azurerm_network_security_rule")).filter((rule) =>
    rule.network_security_group_name.includes(`network_${subnet}-security_group_`),
  );
}

describe("azure-platform security baseline", () => {
  let synth: Synthesized;
  let stack: TerraformJson;

  beforeAll(() => {
    synth = synthesize();
    stack = synth.stack(STACK);
  });
  afterAll(() => synth.cleanup());

  it("puts the Key Vault behind a firewall: the nodes subnet, the deployer ranges, the CI runners and trusted Azure services", () => {
    expect(onlyResource(stack, "azurerm_key_vault").network_acls).toEqual({
      default_action: "Deny",
      bypass: "AzureServices",
      virtual_network_subnet_ids: [expect.stringMatching(/^\$\{azurerm_subnet\.network_nodes_\w+\.id\}$/)],
      // The default config names no vault ranges: the API server's authorized ranges serve, and ci.runnerIpRanges.
      ip_rules: ["203.0.113.0/24", "198.51.100.0/24"],
    });
    const nodes = Object.values(resourcesOf(stack, "azurerm_subnet")).find((subnet) => subnet.name === "nodes");
    expect(nodes.service_endpoints).toEqual(["Microsoft.KeyVault", "Microsoft.Storage"]);
  });

  it("encrypts at host on both node pools, and admits the overlay's pod density", () => {
    const aks = onlyResource(stack, "azurerm_kubernetes_cluster");
    const user = onlyResource(stack, "azurerm_kubernetes_cluster_node_pool");
    expect(aks.default_node_pool).toMatchObject({ host_encryption_enabled: true, max_pods: 250 });
    expect(user).toMatchObject({ host_encryption_enabled: true, max_pods: 250 });
  });

  it("gives both subnets a network security group", () => {
    const associations = Object.values(resourcesOf(stack, "azurerm_subnet_network_security_group_association"));
    expect(associations.map((a) => a.subnet_id).sort()).toEqual([
      expect.stringMatching(/^\$\{azurerm_subnet\.network_nodes_\w+\.id\}$/),
      expect.stringMatching(/^\$\{azurerm_subnet\.network_postgres_\w+\.id\}$/),
    ]);
  });

  it("admits PostgreSQL only from the nodes subnet and the pod range, and denies the rest of the VNet", () => {
    const rules = rulesOf(stack, "postgres");
    const allowedToPostgres = rules.filter((rule) => rule.access === "Allow" && ["5432", "*"].includes(rule.destination_port_range));
    expect(allowedToPostgres.map((rule) => [rule.destination_port_range, rule.source_address_prefixes ?? [rule.source_address_prefix]])).toEqual([
      ["5432", ["10.50.0.0/18", "192.168.0.0/16"]],
      // High-availability replication inside the delegated subnet.
      ["*", ["10.50.64.0/24"]],
    ]);
    const deny = rules.find((rule) => rule.access === "Deny");
    expect(deny).toMatchObject({ direction: "Inbound", source_address_prefix: "VirtualNetwork", destination_port_range: "*", protocol: "*" });
    for (const allow of allowedToPostgres) expect(allow.priority).toBeLessThan(deny.priority);
  });

  it("admits only the ingress gateway's ports from the internet to the nodes", () => {
    const fromInternet = rulesOf(stack, "nodes").filter((rule) => rule.source_address_prefix === "Internet");
    expect(fromInternet).toHaveLength(1);
    expect(fromInternet[0]).toMatchObject({ access: "Allow", protocol: "Tcp", destination_port_ranges: ["80", "443"] });
  });

  it("serves the Premium registry's layers from dedicated data endpoints", () => {
    expect(onlyResource(stack, "azurerm_container_registry").data_endpoint_enabled).toBe(true);
  });
});

describe("azure-platform security settings from other configurations", () => {
  it("admits the configured vault ranges instead of the API server's, a /32 as a single address, and the CI runners' ranges", () => {
    const stack = platformOf((r) => {
      r.clouds.azure.keyVault.allowedIpRanges = ["192.0.2.0/25", "192.0.2.200/32"];
      r.ci.runnerIpRanges = ["198.51.100.0/24", "192.0.2.0/25"];
    });
    expect(onlyResource(stack, "azurerm_key_vault").network_acls.ip_rules).toEqual(["192.0.2.0/25", "192.0.2.200", "198.51.100.0/24"]);
  });

  it("turns encryption at host off on both pools when the subscription cannot have it", () => {
    const stack = platformOf((r) => (r.clouds.azure.cluster.encryptionAtHost = false));
    expect(onlyResource(stack, "azurerm_kubernetes_cluster").default_node_pool.host_encryption_enabled).toBe(false);
    expect(onlyResource(stack, "azurerm_kubernetes_cluster_node_pool").host_encryption_enabled).toBe(false);
  });

  it("enables no data endpoints on a Standard registry, which cannot have them", () => {
    const stack = platformOf((r) => {
      r.clouds.azure.registry = { name: r.clouds.azure.registry.name, sku: "Standard" };
    });
    expect(onlyResource(stack, "azurerm_container_registry").data_endpoint_enabled).toBeUndefined();
  });

  it("rejects an empty vault range list, naming the field and what to do", () => {
    const problem = problemOf((r) => (r.clouds.azure.keyVault.allowedIpRanges = []));
    expect(problem).toMatchObject({
      path: "clouds.azure.keyVault.allowedIpRanges",
      value: [],
      message: "at least one range, or leave the field out to use cluster.authorizedIpRanges",
    });
  });

  it("rejects a vault range that is not a CIDR", () => {
    const problem = problemOf((r) => (r.clouds.azure.keyVault.allowedIpRanges = ["203.0.113.0"]));
    expect(problem.path).toBe("clouds.azure.keyVault.allowedIpRanges[0]");
    expect(problem.value).toBe("203.0.113.0");
  });
});
