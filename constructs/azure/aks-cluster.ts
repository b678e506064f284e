import { KubernetesCluster } from "@cdktf/provider-azurerm/lib/kubernetes-cluster";
import { KubernetesClusterNodePool } from "@cdktf/provider-azurerm/lib/kubernetes-cluster-node-pool";
import { UserAssignedIdentity } from "@cdktf/provider-azurerm/lib/user-assigned-identity";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import type { AzureConfig } from "../../config";
import type { ExecCredential } from "../contract";
import { assignRole, ROLES } from "./role-assignment";
import { ServiceAccountIdentity } from "./workload-identity";

/** The application id of the AKS AAD server every Entra-integrated cluster shares. */
export const AKS_ENTRA_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";

/** Pods per node: the Azure CNI overlay's default and maximum. */
export const MAX_PODS_PER_NODE = 250;

type AzureCluster = AzureConfig["cluster"];
type NodePool = AzureCluster["systemPool"];

export interface AksClusterProps {
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  readonly tenantId: string;
  readonly nodesSubnetId: string;
  readonly logAnalyticsWorkspaceId: string;
  readonly version: string;
  readonly serviceCidr: string;
  readonly dnsServiceIp: string;
  readonly podCidr: string;
  /** Never empty: the config schema requires at least one range. */
  readonly authorizedIpRanges: string[];
  readonly adminGroupObjectIds: string[];
  readonly systemPool: NodePool;
  readonly userPool: NodePool;
  readonly upgradeChannel: AzureCluster["upgradeChannel"];
  readonly maintenanceWindow: AzureCluster["maintenanceWindow"];
  readonly upgradeSettings: AzureCluster["upgradeSettings"];
  readonly skuTier: "Free" | "Standard" | "Premium";
  /**
   * Encryption at host on both pools; needs the subscription feature
   * `Microsoft.Compute/EncryptionAtHost`.
   * @default true
   */
  readonly encryptionAtHost?: boolean;
}

const pad = (hour: number): string => `${String(hour).padStart(2, "0")}:00`;

/**
 * AKS with Microsoft Entra ID and Azure RBAC as the only way in (local
 * accounts off), workload identity, Azure CNI overlay with Cilium network
 * policy, a tainted system pool for critical add-ons and an autoscaling user
 * pool, planned upgrades inside a maintenance window, and the monitoring,
 * policy and Key Vault secrets provider add-ons.
 */
export class AksCluster extends Construct {
  readonly cluster: KubernetesCluster;
  readonly userPool: KubernetesClusterNodePool;
  private readonly location: string;
  private readonly resourceGroupName: string;
  private readonly name: string;

  constructor(scope: Construct, id: string, props: AksClusterProps) {
    super(scope, id);
    this.name = props.name;
    this.location = props.location;
    this.resourceGroupName = props.resourceGroupName;
    const encryptionAtHost = props.encryptionAtHost ?? true;

    // A user-assigned control plane identity can be granted the subnet before
    // the cluster exists, so load balancers in it work from the first apply.
    const controlPlane = new UserAssignedIdentity(this, "control-plane", {
      name: `${props.name}-control-plane`,
      location: props.location,
      resourceGroupName: props.resourceGroupName,
    });
    const subnetAccess = assignRole(this, "control-plane-subnet", {
      principalId: controlPlane.principalId,
      role: ROLES.networkContributor,
      on: props.nodesSubnetId,
      principalType: "ServicePrincipal",
    });

    // Every field explicit: an omitted one is sent as 0 or "", and the provider
    // replaces the cluster or pool when Azure's value goes back to that.
    const upgradeSettings = {
      maxSurge: props.upgradeSettings.maxSurge,
      drainTimeoutInMinutes: props.upgradeSettings.drainTimeoutMinutes,
      nodeSoakDurationInMinutes: props.upgradeSettings.nodeSoakDurationMinutes,
      undrainableNodeBehavior: props.upgradeSettings.undrainableNodeBehavior,
    };

    const window = props.maintenanceWindow;
    const weekly = {
      frequency: "Weekly",
      interval: 1,
      dayOfWeek: window.day,
      startTime: pad(window.startHour),
      duration: window.durationHours,
      utcOffset: "+00:00",
    };

    this.cluster = new KubernetesCluster(this, "cluster", {
      name: props.name,
      location: props.location,
      resourceGroupName: props.resourceGroupName,
      nodeResourceGroup: `${props.name}-nodes`,
      dnsPrefix: props.name,
      kubernetesVersion: props.version,
      skuTier: props.skuTier,
      identity: { type: "UserAssigned", identityIds: [controlPlane.id] },
      localAccountDisabled: true,
      roleBasedAccessControlEnabled: true,
      azureActiveDirectoryRoleBasedAccessControl: {
        tenantId: props.tenantId,
        azureRbacEnabled: true,
        adminGroupObjectIds: props.adminGroupObjectIds,
      },
      oidcIssuerEnabled: true,
      workloadIdentityEnabled: true,
      apiServerAccessProfile: { authorizedIpRanges: props.authorizedIpRanges },
      networkProfile: {
        networkPlugin: "azure",
        networkPluginMode: "overlay",
        networkPolicy: "cilium",
        networkDataPlane: "cilium",
        podCidr: props.podCidr,
        serviceCidr: props.serviceCidr,
        dnsServiceIp: props.dnsServiceIp,
        loadBalancerSku: "standard",
        outboundType: "loadBalancer",
      },
      defaultNodePool: {
        name: "system",
        vmSize: props.systemPool.vmSize,
        orchestratorVersion: props.version,
        autoScalingEnabled: true,
        minCount: props.systemPool.minCount,
        maxCount: props.systemPool.maxCount,
        onlyCriticalAddonsEnabled: true,
        vnetSubnetId: props.nodesSubnetId,
        zones: props.systemPool.zones,
        osDiskSizeGb: props.systemPool.osDiskSizeGb,
        osSku: "AzureLinux",
        hostEncryptionEnabled: encryptionAtHost,
        // The Azure CNI overlay default, written out: pod density is a design input, not an accident.
        maxPods: MAX_PODS_PER_NODE,
        // Lets Terraform change the VM size by rotating through a temporary pool.
        temporaryNameForRotation: "systemtmp",
        upgradeSettings,
      },
      automaticUpgradeChannel: props.upgradeChannel,
      nodeOsUpgradeChannel: "NodeImage",
      maintenanceWindowAutoUpgrade: weekly,
      maintenanceWindowNodeOs: weekly,
      omsAgent: { logAnalyticsWorkspaceId: props.logAnalyticsWorkspaceId, msiAuthForMonitoringEnabled: true },
      // Enabled without any vault role: a workload that mounts secrets with it
      // grants its own identity on its own vault.
      keyVaultSecretsProvider: { secretRotationEnabled: true, secretRotationInterval: "2m" },
      azurePolicyEnabled: true,
      imageCleanerEnabled: true,
      imageCleanerIntervalHours: 48,
      // The upgrade channel moves the patch version; Terraform keeps the minor.
      lifecycle: { ignoreChanges: ["kubernetes_version", "default_node_pool[0].orchestrator_version"] },
      dependsOn: [subnetAccess],
    });

    this.userPool = new KubernetesClusterNodePool(this, "user-pool", {
      name: "user",
      kubernetesClusterId: this.cluster.id,
      mode: "User",
      vmSize: props.userPool.vmSize,
      orchestratorVersion: props.version,
      autoScalingEnabled: true,
      minCount: props.userPool.minCount,
      maxCount: props.userPool.maxCount,
      vnetSubnetId: props.nodesSubnetId,
      zones: props.userPool.zones,
      osDiskSizeGb: props.userPool.osDiskSizeGb,
      osSku: "AzureLinux",
      hostEncryptionEnabled: encryptionAtHost,
      maxPods: MAX_PODS_PER_NODE,
      temporaryNameForRotation: "usertmp",
      upgradeSettings,
      lifecycle: { ignoreChanges: ["orchestrator_version"] },
    });
  }

  /**
   * A managed identity the given in-cluster service account acts as through
   * workload identity, named `<cluster>-<id>`.
   */
  identityFor(id: string, account: { readonly namespace: string; readonly serviceAccount: string }): ServiceAccountIdentity {
    return this.identityForServiceAccount(id, `${this.name}-${id}`, account.namespace, account.serviceAccount);
  }

  /** A managed identity the given service account acts as through workload identity. */
  identityForServiceAccount(id: string, name: string, namespace: string, serviceAccount: string): ServiceAccountIdentity {
    return new ServiceAccountIdentity(this, id, {
      name,
      location: this.location,
      resourceGroupName: this.resourceGroupName,
      issuer: this.oidcIssuerUrl,
      namespace,
      serviceAccount,
    });
  }

  get oidcIssuerUrl(): string {
    return this.cluster.oidcIssuerUrl;
  }

  /** The identity AKS nodes pull images with. */
  get kubeletObjectId(): string {
    return this.cluster.kubeletIdentity.objectId;
  }

  /**
   * The API server address. With local accounts disabled, `kube_config` holds
   * only the host and CA; no key or token is ever read from it.
   */
  get host(): string {
    return this.cluster.kubeConfig.get(0).host;
  }

  get certificateAuthority(): string {
    return Fn.base64decode(this.cluster.kubeConfig.get(0).clusterCaCertificate);
  }

  /** Entra ID tokens from the signed-in Azure CLI session; nothing stored in state. */
  get exec(): ExecCredential {
    return {
      apiVersion: "client.authentication.k8s.io/v1beta1",
      command: "kubelogin",
      args: ["get-token", "--login", "azurecli", "--server-id", AKS_ENTRA_SERVER_ID],
    };
  }
}
