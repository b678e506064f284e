import { DataAzurermClientConfig } from "@cdktf/provider-azurerm/lib/data-azurerm-client-config";
import { ResourceGroup } from "@cdktf/provider-azurerm/lib/resource-group";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { AzureConfig, PlatformConfig } from "../config";
import { AksCluster } from "../constructs/azure/aks-cluster";
import { ContainerInsights } from "../constructs/azure/container-insights";
import { PlatformKeyVault } from "../constructs/azure/key-vault";
import { Monitoring } from "../constructs/azure/monitoring";
import { AzureNetwork } from "../constructs/azure/network";
import { AcrRegistry } from "../constructs/azure/registry";
import { assignRole, ROLES } from "../constructs/azure/role-assignment";
import { setUpAzureStack } from "../constructs/azure/stack-setup";
import type { ServiceAccountIdentity } from "../constructs/azure/workload-identity";
import { boundedName } from "../constructs/common/naming";
import { IN_CLUSTER, type ClusterPlatform } from "../constructs/contract";

export interface AzurePlatformStackProps {
  readonly config: PlatformConfig;
  readonly azure: AzureConfig;
}

/**
 * The shared Azure platform: network, AKS, ACR, Key Vault, monitoring and the
 * identities of in-cluster components. Databases live in the data stacks, so
 * an apply here can never touch one.
 */
export class AzurePlatformStack extends TerraformStack implements ClusterPlatform {
  readonly cloud = "azure";
  readonly resourceGroup: ResourceGroup;
  readonly network: AzureNetwork;
  readonly monitoring: Monitoring;
  readonly aks: AksCluster;
  readonly acr: AcrRegistry;
  readonly keyVault: PlatformKeyVault;
  readonly tenantId: string;
  private readonly fluxIdentity: ServiceAccountIdentity;
  private readonly externalSecretsIdentity: ServiceAccountIdentity;

  constructor(scope: Construct, id: string, props: AzurePlatformStackProps) {
    super(scope, id);
    const { config, azure } = props;
    setUpAzureStack(this, { config, azure, stackId: id, environment: "platform" });

    // AKS adds `-nodes`, and node resource group names stop at 80 characters; DNS prefixes at 54.
    const name = boundedName(54, config.project, "platform");
    const location = azure.location;
    const client = new DataAzurermClientConfig(this, "client", {});
    this.tenantId = azure.tenantId ?? client.tenantId;
    const hasProduction = config.environments.some((env) => env.stage === "production");

    this.resourceGroup = new ResourceGroup(this, "resource-group", { name, location });
    const resourceGroupName = this.resourceGroup.name;

    this.network = new AzureNetwork(this, "network", {
      name,
      location,
      resourceGroupName,
      vnetCidr: azure.network.vnetCidr,
      nodesSubnetCidr: azure.network.nodesSubnetCidr,
      postgresSubnetCidr: azure.network.postgresSubnetCidr,
    });

    this.monitoring = new Monitoring(this, "monitoring", {
      name,
      location,
      resourceGroupName,
      alertEmails: azure.alertEmails.length > 0 ? azure.alertEmails : config.alerts.emails,
    });

    this.aks = new AksCluster(this, "aks", {
      name,
      location,
      resourceGroupName,
      tenantId: this.tenantId,
      nodesSubnetId: this.network.nodesSubnet.id,
      logAnalyticsWorkspaceId: this.monitoring.workspace.id,
      version: azure.cluster.version,
      serviceCidr: azure.cluster.serviceCidr,
      dnsServiceIp: azure.cluster.dnsServiceIp,
      podCidr: azure.cluster.podCidr,
      authorizedIpRanges: azure.cluster.authorizedIpRanges,
      adminGroupObjectIds: azure.cluster.adminGroupObjectIds,
      systemPool: azure.cluster.systemPool,
      userPool: azure.cluster.userPool,
      upgradeChannel: azure.cluster.upgradeChannel,
      maintenanceWindow: azure.cluster.maintenanceWindow,
      upgradeSettings: azure.cluster.upgradeSettings,
      // The uptime SLA is what production pays for.
      skuTier: azure.cluster.skuTier ?? (hasProduction ? "Standard" : "Free"),
    });

    new ContainerInsights(this, "container-insights", {
      name,
      location,
      resourceGroupName,
      clusterId: this.aks.cluster.id,
      workspaceId: this.monitoring.workspace.id,
    });

    // Whoever applies this stack applies the in-cluster stacks next, through
    // Azure RBAC (local accounts are off): without this every Helm and
    // Kubernetes resource there gets 403 unless the deployer happens to be in
    // adminGroupObjectIds. Scoped to this cluster only.
    assignRole(this, "deployer-cluster-admin", {
      principalId: client.objectId,
      role: ROLES.aksRbacClusterAdmin,
      on: this.aks.cluster.id,
    });

    this.acr = new AcrRegistry(this, "acr", {
      name: azure.registry.name,
      location,
      resourceGroupName,
      sku: azure.registry.sku,
      prefix: config.project,
      applications: config.applications.map((app) => app.name),
      untaggedRetentionDays: azure.registry.untaggedRetentionDays,
      zoneRedundancy: azure.registry.zoneRedundancy,
      privateAccess: azure.registry.privateAccess ? { subnetId: this.network.nodesSubnet.id, vnetId: this.network.vnet.id } : undefined,
    });
    this.acr.grantPull("kubelet-pull", this.aks.kubeletObjectId);

    this.keyVault = new PlatformKeyVault(this, "key-vault", {
      name: azure.keyVault.name,
      location,
      resourceGroupName,
      tenantId: this.tenantId,
      softDeleteRetentionDays: azure.keyVault.softDeleteRetentionDays,
      deployerObjectId: client.objectId,
    });
    // The Key Vault secrets provider add-on gets no role here: nothing in the
    // platform mounts secrets through its CSI driver (applications use External
    // Secrets with their own identities), and a vault-wide grant to an identity
    // any pod's SecretProviderClass can name would expose every environment's
    // database password.

    this.fluxIdentity = this.aks.identityForServiceAccount(
      "flux-image-reflector",
      `${name}-flux-image-reflector`,
      IN_CLUSTER.flux.namespace,
      IN_CLUSTER.flux.imageReflectorServiceAccount,
    );
    this.fluxIdentity.grant("registry-pull", ROLES.acrPull, this.acr.registry.id);

    this.externalSecretsIdentity = this.aks.identityForServiceAccount(
      "external-secrets",
      `${name}-external-secrets`,
      IN_CLUSTER.externalSecrets.namespace,
      IN_CLUSTER.externalSecrets.serviceAccount,
    );
    this.externalSecretsIdentity.grant("vault-read", ROLES.keyVaultSecretsUser, this.keyVault.id);

    new TerraformOutput(this, "cluster_name", { value: this.aks.cluster.name });
    new TerraformOutput(this, "cluster_fqdn", { value: this.aks.cluster.fqdn });
    new TerraformOutput(this, "registry", { value: this.acr.loginServer });
    new TerraformOutput(this, "key_vault_uri", { value: this.keyVault.uri });
    new TerraformOutput(this, "kubeconfig_command", {
      value: `az aks get-credentials --resource-group ${name} --name ${name} && kubelogin convert-kubeconfig --login azurecli`,
    });
  }

  get cluster() {
    return { name: this.aks.cluster.name, host: this.aks.host, clusterCaCertificate: this.aks.certificateAuthority, exec: this.aks.exec };
  }

  get storageClass() {
    // Built into AKS (Azure Disk CSI, zone-redundant where the region allows).
    return { name: "managed-csi" };
  }

  get registry() {
    return { loginServer: this.acr.loginServer, repositories: this.acr.repositoryUrls, fluxProvider: "azure" as const };
  }

  get identities() {
    return { fluxImageReflector: this.fluxIdentity.workloadIdentity, externalSecrets: this.externalSecretsIdentity.workloadIdentity };
  }

  get clusterSecretStore() {
    return {
      azurekv: {
        authType: "WorkloadIdentity",
        vaultUrl: this.keyVault.uri,
        serviceAccountRef: { name: IN_CLUSTER.externalSecrets.serviceAccount, namespace: IN_CLUSTER.externalSecrets.namespace },
      },
    };
  }
}
