import { DataAzurermClientConfig } from "@cdktf/provider-azurerm/lib/data-azurerm-client-config";
import { ResourceGroup } from "@cdktf/provider-azurerm/lib/resource-group";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { AzureConfig, PlatformConfig } from "../config";
import { logRetention } from "../config/logs";
import { AksCluster } from "../constructs/azure/aks-cluster";
import type { DatabasePlatform } from "../constructs/azure/database-server";
import { ContainerInsights } from "../constructs/azure/container-insights";
import { AksCiAccess } from "../constructs/azure/ci-cluster-access";
import { PlatformKeyVault, type PlatformKeyVaultProps, type VaultGrantee } from "../constructs/azure/key-vault";
import { AzurePublicZone } from "../constructs/azure/public-zone";
import { AzureUptimeChecks } from "../constructs/azure/uptime-checks";
import { LogAnalytics } from "../constructs/azure/log-analytics";
import { AzureLogStore } from "../constructs/azure/log-store";
import { AzureNetwork, monitoringAddresses } from "../constructs/azure/network";
import { PrivateDnsZone } from "@cdktf/provider-azurerm/lib/private-dns-zone";
import { PrivateDnsZoneVirtualNetworkLink } from "@cdktf/provider-azurerm/lib/private-dns-zone-virtual-network-link";
import { PrivateDnsARecord } from "@cdktf/provider-azurerm/lib/private-dns-a-record";
import { VirtualNetworkPeering } from "@cdktf/provider-azurerm/lib/virtual-network-peering";
import { AcrRegistry } from "../constructs/azure/registry";
import { assignRole, ROLES } from "../constructs/azure/role-assignment";
import { setUpAzureStack } from "../constructs/azure/stack-setup";
import type { ServiceAccountIdentity } from "../constructs/azure/workload-identity";
import { clusterNameParts, otherClusterRanges, DEFAULT_CLUSTER, privateZoneName, type ClusterConfig } from "../config/clusters";
import { boundedName } from "../constructs/common/naming";
import { ciDeployNamespaces } from "./deployment";
import { relaySharedValues } from "../constructs/common/shared-values";
import { uptimeTargets } from "../constructs/common/uptime-targets";
import { anyEnvironmentWhere, environmentsWhere } from "../config/stages";
import { IN_CLUSTER, registryWebhookServiceAccount, type AlertHeartbeat, type PrivateMonitoring, type CiSubjects, type ClusterPlatform, type IngressGateway, type LogStore, type PublicDns, type RegistryWebhookAccess, type WorkloadIdentity } from "../constructs/contract";
import { AcrWebhook } from "../constructs/azure/registry-webhook";
import { environmentDomain } from "../constructs/environment/domain";
import { webhookHost } from "../constructs/environment/receiver";

/**
 * Who writes the platform vault's secrets and who reads them: the data
 * stacks' deploying identities and the administrator groups write (each data
 * stack generates its database password there), the review identity reads
 * (a plan of a data stack opens the password), nobody by virtue of running
 * Terraform. Secret-scoped grants would be narrower, but a role assignment
 * needs its scope to exist, and each data stack creates its own secret.
 */
function vaultGrantees(azure: AzureConfig, ci: AksCiAccess | undefined): Pick<PlatformKeyVaultProps, "secretsOfficers" | "secretsReaders"> {
  const admins: VaultGrantee[] = azure.cluster.adminGroupObjectIds.map((objectId) => ({ id: `admins-${objectId}-secrets-officer`, principalId: objectId, principalType: "Group" }));
  if (!ci) return { secretsOfficers: admins, secretsReaders: [] };
  return {
    secretsOfficers: [
      // The production identity's grant keeps the address the applying identity's had.
      { id: "deployer-secrets-officer", principalId: ci.principalId("production"), principalType: "ServicePrincipal" },
      { id: "ci-deploy-secrets-officer", principalId: ci.principalId("deploy"), principalType: "ServicePrincipal" },
      ...admins,
    ],
    secretsReaders: [{ id: "ci-review-secrets-user", principalId: ci.principalId("review"), principalType: "ServicePrincipal" }],
  };
}

/** The tools cluster's VNet and private zone, as another cluster's platform peers with and writes to them. */
export interface AzureToolsNetwork {
  [key: string]: string;
  readonly name: string;
  readonly cidr: string;
  readonly vnetId: string;
  readonly vnetName: string;
  readonly resourceGroupName: string;
  readonly privateZoneName: string;
}

export interface AzurePlatformStackProps {
  /** The config as this cluster sees it: its environments only. */
  readonly config: PlatformConfig;
  /** The cloud's settings with the cluster's own network and cluster fields. */
  readonly azure: AzureConfig;
  /** Default: the one cluster `main`, holding the shared resources. */
  readonly cluster?: ClusterConfig;
  /** The platform holding the cloud's shared DNS zone and registry, when this is not it. */
  readonly shared?: AzurePlatformStack;
}

/**
 * One cluster's Azure platform: network, AKS, Key Vault, monitoring and the
 * identities of in-cluster components; the first cluster's also holds the
 * cloud's DNS zone and ACR, which the others use (docs/topology.md).
 * Databases live in the data stacks, so an apply here can never touch one.
 */
export class AzurePlatformStack extends TerraformStack implements ClusterPlatform {
  readonly cloud = "azure";
  readonly resourceGroup: ResourceGroup;
  readonly network: AzureNetwork;
  readonly logAnalytics: LogAnalytics;
  readonly aks: AksCluster;
  readonly acr: AcrRegistry;
  readonly keyVault: PlatformKeyVault;
  readonly logStorageAccount: AzureLogStore;
  readonly zone: AzurePublicZone;
  readonly uptimeChecks: AzureUptimeChecks;
  readonly tenantId: string;
  readonly subscriptionId: string;
  /** The CI identities and their cluster access, when the config has `ci`. */
  readonly ciAccess?: AksCiAccess;
  /**
   * On the tools cluster: its VNet and the private zone the other clusters
   * publish their Prometheus and Loki in.
   */
  readonly toolsNetwork?: AzureToolsNetwork;
  /** On the tools cluster: the other clusters' ranges, which its network is peered with. */
  readonly peeredRanges?: readonly string[];
  /** On a workload cluster of a cloud with a tools cluster: that network, as this stack reads it. */
  private readonly toolsPeer?: AzureToolsNetwork;
  /** With a tools peer: the fixed addresses of Prometheus's and Loki's internal load balancers. */
  private readonly loadBalancerAddresses?: { readonly prometheus: string; readonly loki: string };
  private readonly location: string;
  private readonly clusterName: string;
  private readonly fluxIdentity: ServiceAccountIdentity;
  private readonly externalDnsIdentity: ServiceAccountIdentity;
  private readonly certManagerIdentity: ServiceAccountIdentity;
  private readonly externalSecretsIdentity: ServiceAccountIdentity;
  private readonly ciRunnerIdentity?: ServiceAccountIdentity;
  /** Per environment, what points its registry webhook at its Receiver: with `gitops.receivers.registry`. */
  readonly registryWebhooks?: Record<string, RegistryWebhookAccess>;
  private readonly lokiIdentity: ServiceAccountIdentity;
  /** The shared zone's and registry's values as this cluster's stacks read them (`relaySharedValues`). */
  private readonly sharedValues: { zoneId: string; zoneName: string; zoneResourceGroupName: string; loginServer: string; repositoryUrls: Record<string, string> };

  constructor(scope: Construct, id: string, props: AzurePlatformStackProps) {
    super(scope, id);
    const { config, azure, shared } = props;
    const cluster = props.cluster?.name ?? DEFAULT_CLUSTER;
    setUpAzureStack(this, { config, azure, stackId: id, environment: "platform" });

    // AKS adds `-nodes`, and node resource group names stop at 80 characters; DNS prefixes at 54.
    this.clusterName = boundedName(54, ...clusterNameParts(config.project, cluster));
    this.location = azure.location;
    const client = new DataAzurermClientConfig(this, "client", {});
    this.tenantId = azure.tenantId ?? client.tenantId;
    this.subscriptionId = client.subscriptionId;
    const protectData = anyEnvironmentWhere(config.environments, (stage) => stage.protectData);
    const uptimeSla = anyEnvironmentWhere(config.environments, (stage) => stage.clusterUptimeSla);

    // The tools cluster comes first (config rule), so it is the shared platform of the others.
    this.toolsPeer = shared?.toolsNetwork && relaySharedValues(this, true, shared.toolsNetwork);
    this.loadBalancerAddresses = this.toolsPeer && monitoringAddresses(azure.network.nodesSubnetCidr);

    // The steps, in the order their resources depend on each other.
    this.resourceGroup = new ResourceGroup(this, "resource-group", { name: this.clusterName, location: this.location });
    this.network = this.addNetwork(azure);
    if (props.cluster?.role === "tools") {
      this.toolsNetwork = this.addPrivateZone(config, azure, cluster);
      this.peeredRanges = otherClusterRanges(config, "azure", cluster);
    }
    if (this.toolsPeer) this.addToolsPeering(cluster, this.toolsPeer);
    this.logAnalytics = this.addLogAnalytics(config, azure);
    this.aks = this.addCluster(azure, uptimeSla);
    this.ciAccess = this.addCiAccess(config, azure);
    this.acr = shared?.acr ?? this.addRegistry(config, azure);
    // Every cluster's nodes pull from the one registry.
    if (shared) assignRole(this, "kubelet-pull", { principalId: this.aks.kubeletObjectId, role: ROLES.acrPull, on: this.acr.registry.id, principalType: "ServicePrincipal" });
    else this.acr.grantPull("kubelet-pull", this.aks.kubeletObjectId);
    this.keyVault = this.addKeyVault(config, azure, cluster);
    this.fluxIdentity = this.aks.identityFor("flux-image-reflector", { namespace: IN_CLUSTER.flux.namespace, serviceAccount: IN_CLUSTER.flux.imageReflectorServiceAccount });
    this.fluxIdentity.grant("registry-pull", ROLES.acrPull, this.acr.registry.id);
    this.externalSecretsIdentity = this.aks.identityFor("external-secrets", IN_CLUSTER.externalSecrets);
    this.externalSecretsIdentity.grant("vault-read", ROLES.keyVaultSecretsUser, this.keyVault.id);
    this.logStorageAccount = this.addLogStore(config, azure, cluster, protectData);
    this.lokiIdentity = this.aks.identityFor("loki", IN_CLUSTER.logs);
    // The one container, not the account: nothing else in it is Loki's to touch.
    this.lokiIdentity.grant("log-container", ROLES.storageBlobDataContributor, this.logStorageAccount.containerScope);
    this.zone = shared?.zone ?? this.addZone(config);
    [this.externalDnsIdentity, this.certManagerIdentity] = this.addDnsIdentities(config, shared);
    this.uptimeChecks = this.addUptimeChecks(config);
    // The runner pods' own identity, granted nothing: the workflows act through the CI identities.
    if (props.cluster?.role === "tools") this.ciRunnerIdentity = this.aks.identityFor("ci-runner", IN_CLUSTER.ciRunners);
    this.sharedValues = relaySharedValues(this, shared !== undefined, {
      zoneId: this.zone.id,
      zoneName: this.zone.name,
      zoneResourceGroupName: this.zone.resourceGroupName,
      loginServer: this.acr.loginServer,
      repositoryUrls: this.acr.repositoryUrls,
    });
    if (config.gitops.receivers.registry) this.registryWebhooks = this.addRegistryWebhooks(config);
    this.addOutputs();
  }

  /** Each environment's ACR webhook to its Receiver, and the identity of the Job that sets its URI. */
  private addRegistryWebhooks(config: PlatformConfig): Record<string, RegistryWebhookAccess> {
    return Object.fromEntries(
      config.environments.map((environment) => {
        const identity = this.aks.identityFor(`webhook-${environment.name}`, {
          namespace: IN_CLUSTER.registryWebhooks.namespace,
          serviceAccount: registryWebhookServiceAccount(environment.name),
        });
        const webhook = new AcrWebhook(this, `registry-webhook-${environment.name}`, {
          registry: this.acr.registry,
          environment: environment.name,
          host: webhookHost(environmentDomain(config.domain, environment)),
          identity,
        });
        return [environment.name, webhook.access];
      }),
    );
  }

  private addNetwork(azure: AzureConfig): AzureNetwork {
    return new AzureNetwork(this, "network", {
      name: this.clusterName,
      location: this.location,
      resourceGroupName: this.resourceGroup.name,
      vnetCidr: azure.network.vnetCidr,
      nodesSubnetCidr: azure.network.nodesSubnetCidr,
      postgresSubnetCidr: azure.network.postgresSubnetCidr,
      podCidr: azure.cluster.podCidr,
      monitoringReader: this.toolsPeer?.cidr,
    });
  }

  /**
   * The private zone `internal.<base domain>`, linked to the tools cluster's
   * VNet only: the other clusters' platforms write their Prometheus's and
   * Loki's records in it.
   */
  private addPrivateZone(config: PlatformConfig, azure: AzureConfig, cluster: string): AzureToolsNetwork {
    const zone = new PrivateDnsZone(this, "private-zone", { name: privateZoneName(config.domain.base), resourceGroupName: this.resourceGroup.name });
    new PrivateDnsZoneVirtualNetworkLink(this, "private-zone-link", {
      name: `${this.clusterName}-vnet`,
      resourceGroupName: this.resourceGroup.name,
      privateDnsZoneName: zone.name,
      virtualNetworkId: this.network.vnet.id,
      registrationEnabled: false,
    });
    return {
      name: cluster,
      cidr: azure.network.vnetCidr,
      vnetId: this.network.vnet.id,
      vnetName: this.network.vnet.name,
      resourceGroupName: this.resourceGroup.name,
      privateZoneName: zone.name,
    };
  }

  /**
   * Peering both ways with the tools cluster's VNet, and this cluster's
   * Prometheus and Loki in the private zone at the fixed addresses of their
   * internal load balancers. Peering is not transitive: two clusters peered
   * with the tools cluster do not reach each other.
   */
  private addToolsPeering(cluster: string, tools: AzureToolsNetwork): void {
    const peering = { allowForwardedTrafficEnabled: false, allowGatewayTransitEnabled: false, useRemoteGatewaysEnabled: false, allowVirtualNetworkAccessEnabled: true };
    new VirtualNetworkPeering(this, "tools-peering", {
      ...peering,
      name: `to-${tools.name}`,
      resourceGroupName: this.resourceGroup.name,
      virtualNetworkName: this.network.vnet.name,
      remoteVirtualNetworkId: tools.vnetId,
    });
    new VirtualNetworkPeering(this, "tools-return-peering", {
      ...peering,
      name: `to-${cluster}`,
      resourceGroupName: tools.resourceGroupName,
      virtualNetworkName: tools.vnetName,
      remoteVirtualNetworkId: this.network.vnet.id,
    });
    const addresses = this.loadBalancerAddresses!;
    for (const service of ["prometheus", "loki"] as const) {
      new PrivateDnsARecord(this, `${service}-private-record`, {
        // Relative to the zone: `<service>.<cluster>` in `internal.<base domain>`.
        name: `${service}.${cluster}`,
        zoneName: tools.privateZoneName,
        resourceGroupName: tools.resourceGroupName,
        ttl: 300,
        records: [addresses[service]],
      });
    }
  }

  private addLogAnalytics(config: PlatformConfig, azure: AzureConfig): LogAnalytics {
    return new LogAnalytics(this, "monitoring", {
      name: this.clusterName,
      location: this.location,
      resourceGroupName: this.resourceGroup.name,
      alertEmails: azure.alertEmails.length > 0 ? azure.alertEmails : config.alerts.emails,
      pageEmail: config.alerts.pager?.email,
    });
  }

  private addCluster(azure: AzureConfig, uptimeSla: boolean): AksCluster {
    const aks = new AksCluster(this, "aks", {
      name: this.clusterName,
      location: this.location,
      resourceGroupName: this.resourceGroup.name,
      tenantId: this.tenantId,
      nodesSubnetId: this.network.nodesSubnet.id,
      logAnalyticsWorkspaceId: this.logAnalytics.workspace.id,
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
      encryptionAtHost: azure.cluster.encryptionAtHost,
      upgradeSettings: azure.cluster.upgradeSettings,
      // The uptime SLA is what production pays for.
      skuTier: azure.cluster.skuTier ?? (uptimeSla ? "Standard" : "Free"),
    });
    new ContainerInsights(this, "container-insights", {
      name: this.clusterName,
      location: this.location,
      resourceGroupName: this.resourceGroup.name,
      clusterId: aks.cluster.id,
      workspaceId: this.logAnalytics.workspace.id,
    });
    return aks;
  }

  /**
   * The CI identities azure-bootstrap creates, by name: explicit grants,
   * whoever applies. People get theirs from adminGroupObjectIds (AKS's
   * administrator groups); local accounts are off.
   */
  private addCiAccess(config: PlatformConfig, azure: AzureConfig): AksCiAccess | undefined {
    if (!config.ci) return undefined;
    // The config requires a state backend with ci; the identities live beside it.
    const access = new AksCiAccess(this, "ci-access", {
      project: config.project,
      identitiesResourceGroup: azure.stateBackend!.resourceGroupName,
      clusterId: this.aks.cluster.id,
      deployNamespaces: ciDeployNamespaces(config),
    });
    // The production identity applies the add-ons and the production environments: cluster-wide.
    assignRole(this, "deployer-cluster-admin", {
      principalId: access.principalId("production"),
      role: ROLES.aksRbacClusterAdmin,
      on: this.aks.cluster.id,
      principalType: "ServicePrincipal",
    });
    return access;
  }

  private addRegistry(config: PlatformConfig, azure: AzureConfig): AcrRegistry {
    return new AcrRegistry(this, "acr", {
      name: azure.registry.name,
      location: this.location,
      resourceGroupName: this.resourceGroup.name,
      sku: azure.registry.sku,
      prefix: config.project,
      applications: config.applications.map((app) => app.name),
      untaggedRetentionDays: azure.registry.untaggedRetentionDays,
      zoneRedundancy: azure.registry.zoneRedundancy,
      privateAccess: azure.registry.privateAccess ? { subnetId: this.network.nodesSubnet.id, vnetId: this.network.vnet.id } : undefined,
    });
  }

  /**
   * The cluster's own vault: a cluster's External Secrets reads its
   * environments' database passwords and no other cluster's.
   */
  private addKeyVault(config: PlatformConfig, azure: AzureConfig, cluster: string): PlatformKeyVault {
    const vault = new PlatformKeyVault(this, "key-vault", {
      name: cluster === DEFAULT_CLUSTER ? azure.keyVault.name : `${azure.keyVault.name}-${cluster}`,
      location: this.location,
      resourceGroupName: this.resourceGroup.name,
      tenantId: this.tenantId,
      softDeleteRetentionDays: azure.keyVault.softDeleteRetentionDays,
      ...vaultGrantees(azure, this.ciAccess),
      allowedSubnetIds: [this.network.nodesSubnet.id],
      // Where people and the CI runners run Terraform: the data stacks read the vault while planning.
      allowedIpRanges: [...new Set([...(azure.keyVault.allowedIpRanges ?? azure.cluster.authorizedIpRanges), ...(config.ci?.runnerIpRanges ?? [])])],
    });
    // The Key Vault secrets provider add-on gets no role here: nothing in the
    // platform mounts secrets through its CSI driver (applications use External
    // Secrets with their own identities), and a vault-wide grant to an identity
    // any pod's SecretProviderClass can name would expose every environment's
    // database password.
    return vault;
  }

  private addLogStore(config: PlatformConfig, azure: AzureConfig, cluster: string, protectData: boolean): AzureLogStore {
    const base = azure.logStorage.accountName ?? `${config.project.replace(/-/g, "")}logs`.slice(0, 24);
    return new AzureLogStore(this, "log-storage", {
      name: cluster === DEFAULT_CLUSTER ? base : `${base}${cluster.replace(/-/g, "")}`,
      location: this.location,
      resourceGroupName: this.resourceGroup.name,
      subnetId: this.network.nodesSubnet.id,
      expiryDays: logRetention(config).storageExpiryDays,
      protect: protectData,
    });
  }

  private addZone(config: PlatformConfig): AzurePublicZone {
    const existingZone = config.domain.existingZone;
    const zone = new AzurePublicZone(this, "public-zone", {
      name: existingZone?.name ?? config.domain.base,
      // Config requires the resource group of an existing zone when Azure is configured.
      resourceGroupName: existingZone?.resourceGroup ?? this.resourceGroup.name,
      existing: existingZone !== undefined,
    });
    if (zone.nameServers) {
      new TerraformOutput(this, "dns_name_servers", { value: zone.nameServers, description: `Delegate ${zone.name} to these at the registrar` });
    }
    return zone;
  }

  /** The two in-cluster identities that may change the public zone: external-dns and cert-manager. */
  private addDnsIdentities(config: PlatformConfig, shared: AzurePlatformStack | undefined): [ServiceAccountIdentity, ServiceAccountIdentity] {
    const externalDns = this.aks.identityFor("external-dns", IN_CLUSTER.externalDns);
    externalDns.grant("dns-zone", ROLES.dnsZoneContributor, this.zone.id);
    // external-dns lists the zones of the resource group (ListByResourceGroup),
    // which Azure authorizes at the group, not at the zone: without this every
    // sync is a 403 and no record is written. Reader, as upstream's guide
    // assigns it: no built-in role is narrower, and a custom one would need
    // the deployer to write role definitions as well as assignments.
    const zoneResourceGroupId = config.domain.existingZone
      ? `/subscriptions/${this.subscriptionId}/resourceGroups/${this.zone.resourceGroupName}`
      : (shared ?? this).resourceGroup.id;
    externalDns.grant("dns-zone-group-read", ROLES.reader, zoneResourceGroupId);
    const certManager = this.aks.identityFor("cert-manager", IN_CLUSTER.certManager);
    certManager.grant("dns-zone", ROLES.dnsZoneContributor, this.zone.id);
    return [externalDns, certManager];
  }

  /**
   * Beside the workspace and action groups it uses and the cluster it
   * watches, whose container logs carry the Watchdog (alertHeartbeat).
   */
  private addUptimeChecks(config: PlatformConfig): AzureUptimeChecks {
    return new AzureUptimeChecks(this, "external-monitoring", {
      name: this.clusterName,
      location: this.location,
      resourceGroupName: this.resourceGroup.name,
      workspaceId: this.logAnalytics.workspace.id,
      actionGroupId: this.logAnalytics.actionGroup.id,
      pageActionGroupId: this.logAnalytics.pagesActionGroup?.id,
      pagedEnvironments: environmentsWhere(config.environments, (stage) => stage.pages),
      clusterId: this.aks.cluster.id,
      uptimeTargets: uptimeTargets(config),
    });
  }

  private addOutputs(): void {
    new TerraformOutput(this, "cluster_name", { value: this.aks.cluster.name });
    new TerraformOutput(this, "cluster_fqdn", { value: this.aks.cluster.fqdn });
    new TerraformOutput(this, "registry", { value: this.sharedValues.loginServer });
    new TerraformOutput(this, "key_vault_uri", { value: this.keyVault.uri });
    // Read by `npm run doctor`. The CA is no secret, but the attribute it comes from is marked sensitive.
    new TerraformOutput(this, "cluster_id", { value: this.aks.cluster.id });
    new TerraformOutput(this, "cluster_ca_certificate", { value: this.aks.certificateAuthority, sensitive: true });
    new TerraformOutput(this, "dns_zone_id", { value: this.sharedValues.zoneId });
    new TerraformOutput(this, "heartbeat_alert_id", { value: this.uptimeChecks.heartbeat.id });
    new TerraformOutput(this, "kubeconfig_command", {
      value: `az aks get-credentials --resource-group ${this.clusterName} --name ${this.clusterName} && kubelogin convert-kubeconfig --login azurecli`,
    });
  }

  /** What the data stacks' servers take from the platform. */
  get databasePlatform(): DatabasePlatform {
    return {
      delegatedSubnetId: this.network.postgresSubnet.id,
      privateDnsZoneId: this.network.postgresDnsZone.id,
      tenantId: this.tenantId,
      keyVaultId: this.keyVault.id,
      workspaceId: this.logAnalytics.workspace.id,
      actionGroupId: this.logAnalytics.actionGroup.id,
    };
  }

  get cluster() {
    return { name: this.aks.cluster.name, host: this.aks.host, clusterCaCertificate: this.aks.certificateAuthority, exec: this.aks.exec };
  }

  get ci(): CiSubjects | undefined {
    return this.ciAccess?.subjects;
  }

  get storageClass() {
    // Built into AKS (Azure Disk CSI, zone-redundant where the region allows).
    return { name: "managed-csi" };
  }

  get registry() {
    return { loginServer: this.sharedValues.loginServer, repositories: this.sharedValues.repositoryUrls, fluxProvider: "azure" as const, webhookReceiver: "acr" as const };
  }

  get ciRunner(): WorkloadIdentity | undefined {
    return this.ciRunnerIdentity?.workloadIdentity;
  }

  get identities() {
    return { fluxImageReflector: this.fluxIdentity.workloadIdentity, externalSecrets: this.externalSecretsIdentity.workloadIdentity };
  }

  get capacity() {
    // AKS's cluster autoscaler scales the node pools, and metrics-server is built in.
    return { resourceMetricsBuiltIn: true };
  }

  get logStore(): LogStore {
    const container = this.logStorageAccount.container.name;
    return {
      objectStore: "azure",
      lokiStorage: {
        type: "azure",
        bucketNames: { chunks: container, ruler: container, admin: container },
        // The federated token the workload identity webhook mounts; no account key.
        azure: { accountName: this.logStorageAccount.name, useFederatedToken: true },
      },
      identity: this.lokiIdentity.workloadIdentity,
    };
  }

  get dns(): PublicDns {
    const azureConfig = {
      tenantId: this.tenantId,
      subscriptionId: this.subscriptionId,
      resourceGroup: this.sharedValues.zoneResourceGroupName,
      useWorkloadIdentityExtension: true,
    };
    return {
      zoneName: this.sharedValues.zoneName,
      externalDns: {
        provider: "azure",
        // By name, not id: Azure returns zone ids with `dnszones` in lower case
        // while Terraform's carry `dnsZones`, and external-dns compares ids
        // case-sensitively. The name filter also admits a parent zone of the
        // base domain; `resourceGroup` in azure.json confines it to one group.
        args: [`--azure-config-file=${IN_CLUSTER.externalDns.configDir}/azure.json`, `--zone-name-filter=${this.sharedValues.zoneName}`],
        env: [],
        ownerId: `aks/${this.location}/${this.clusterName}`,
        // Names and ids only: the workload identity webhook supplies the credential.
        configFiles: { "azure.json": JSON.stringify(azureConfig) },
        identity: this.externalDnsIdentity.workloadIdentity,
      },
      certManager: {
        dns01: {
          azureDNS: {
            subscriptionID: this.subscriptionId,
            resourceGroupName: this.sharedValues.zoneResourceGroupName,
            hostedZoneName: this.sharedValues.zoneName,
            environment: "AzurePublicCloud",
            managedIdentity: { clientID: this.certManagerIdentity.identity.clientId },
          },
        },
        identity: this.certManagerIdentity.workloadIdentity,
      },
    };
  }

  get privateMonitoring(): PrivateMonitoring | undefined {
    const [tools, addresses] = [this.toolsPeer, this.loadBalancerAddresses];
    if (!tools || !addresses) return undefined;
    // An internal load balancer at the address the private zone names, admitting the tools cluster's range alone.
    const annotations = (address: string) => ({
      "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
      "service.beta.kubernetes.io/azure-load-balancer-ipv4": address,
      "service.beta.kubernetes.io/load-balancer-source-ranges": tools.cidr,
    });
    return { serviceAnnotations: { prometheus: annotations(addresses.prometheus), loki: annotations(addresses.loki) } };
  }

  get alertHeartbeat(): AlertHeartbeat {
    // Container Insights already carries the cluster's container logs to the
    // workspace: the Watchdog is logged in the cluster and read from there.
    return { identity: { serviceAccountAnnotations: {}, podLabels: {} }, containerLog: true };
  }

  get ingressGateway(): IngressGateway {
    // AKS's Standard load balancer as it comes.
    return { loadBalancerAnnotations: {} };
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
