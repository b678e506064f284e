import { EksAccessEntry } from "@cdktf/provider-aws/lib/eks-access-entry";
import { EksAccessPolicyAssociation } from "@cdktf/provider-aws/lib/eks-access-policy-association";
import { EksAddon } from "@cdktf/provider-aws/lib/eks-addon";
import { EksCluster } from "@cdktf/provider-aws/lib/eks-cluster";
import { EksFargateProfile } from "@cdktf/provider-aws/lib/eks-fargate-profile";
import { EksNodeGroup } from "@cdktf/provider-aws/lib/eks-node-group";
import { EksPodIdentityAssociation } from "@cdktf/provider-aws/lib/eks-pod-identity-association";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { itemKey, movedFromPositionalId } from "../common/item-ids";
import type { AwsSystemNodeGroupConfig } from "../../config";
import type { ExecCredential } from "../contract";
import { ServiceRole, trustPodIdentity, trustService, type PolicyStatement } from "./iam";
import type { EncryptionKey } from "./kms-key";

/** Every control-plane log type EKS can send to CloudWatch. */
export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

/** EKS-managed add-ons installed with the cluster; versions follow the cluster's default. */
export const MANAGED_ADDONS = ["vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver"];

/** Name of the managed node group of cluster-critical add-ons; EKS labels its nodes `eks.amazonaws.com/nodegroup=system`. */
export const SYSTEM_NODE_GROUP = "system";

/**
 * Keeps every pod without a matching toleration off the system group. CoreDNS,
 * the EBS CSI controller and Karpenter tolerate it out of the box.
 */
export const CRITICAL_ADDONS_TAINT = { key: "CriticalAddonsOnly", effect: "NoSchedule" } as const;

/** Add-on settings that differ from EKS's defaults. */
const ADDON_CONFIGURATION: Record<string, object> = {
  // Without the network policy agent, the environments' NetworkPolicies are accepted and ignored.
  "vpc-cni": { enableNetworkPolicy: "true" },
};

export interface EksClusterProps {
  readonly name: string;
  readonly region: string;
  readonly version: string;
  readonly subnetIds: string[];
  readonly serviceCidr: string;
  /** KMS key for envelope encryption of Kubernetes secrets; its policy is given the cluster role. */
  readonly secretsKey: EncryptionKey;
  /** CIDRs for the public endpoint; empty means private endpoint only. */
  readonly publicAccessCidrs: string[];
  readonly adminPrincipalArns: string[];
  readonly bootstrapCreatorAdmin: boolean;
  /** The fixed-size group the node autoscaler and cluster-critical add-ons run on. */
  readonly systemNodeGroup: AwsSystemNodeGroupConfig;
  readonly fargateNamespaces: string[];
}

/**
 * An EKS cluster with access entries, the system node group on AL2023, the
 * managed add-ons persistent volumes and pod identity need, and an OIDC
 * provider for per-service-account roles.
 */
export class AwsEksCluster extends Construct {
  readonly cluster: EksCluster;
  readonly nodeRole: ServiceRole;
  readonly oidcProvider: IamOpenidConnectProvider;
  readonly systemNodeGroup: EksNodeGroup;
  private readonly name: string;
  private readonly region: string;

  constructor(scope: Construct, id: string, props: EksClusterProps) {
    super(scope, id);
    this.name = props.name;
    this.region = props.region;

    const clusterRole = new ServiceRole(this, "cluster-role", {
      name: `${props.name}-cluster`,
      trust: { ...trustService("eks.amazonaws.com"), Action: ["sts:AssumeRole", "sts:TagSession"] },
      managedPolicies: ["AmazonEKSClusterPolicy"],
    });
    // What EKS documents for secrets encryption, on this key only.
    props.secretsKey.grantRole("EksClusterRole", clusterRole.arn, ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ListGrants"]);

    const publicEndpoint = props.publicAccessCidrs.length > 0;
    this.cluster = new EksCluster(this, "cluster", {
      name: props.name,
      version: props.version,
      roleArn: clusterRole.arn,
      vpcConfig: {
        subnetIds: props.subnetIds,
        endpointPrivateAccess: true,
        endpointPublicAccess: publicEndpoint,
        publicAccessCidrs: publicEndpoint ? props.publicAccessCidrs : undefined,
      },
      kubernetesNetworkConfig: { serviceIpv4Cidr: props.serviceCidr, ipFamily: "ipv4" },
      encryptionConfig: { provider: { keyArn: props.secretsKey.arn }, resources: ["secrets"] },
      enabledClusterLogTypes: CONTROL_PLANE_LOG_TYPES,
      // Extended support bills six times the hourly rate; upgrade instead.
      upgradePolicy: { supportType: "STANDARD" },
      accessConfig: {
        authenticationMode: "API",
        bootstrapClusterCreatorAdminPermissions: props.bootstrapCreatorAdmin,
      },
      dependsOn: [...clusterRole.dependables, props.secretsKey.policy],
      // EKS reads it once, when creating the cluster, and the provider would
      // replace the cluster to change it: a later value must not matter.
      lifecycle: { ignoreChanges: ["access_config[0].bootstrap_cluster_creator_admin_permissions"] },
    });

    // Ids from the principal, not its position: removing one admin removes only its entry.
    [...new Set(props.adminPrincipalArns)].forEach((principalArn, i) => {
      const key = itemKey(principalArn);
      const entry = new EksAccessEntry(this, `admin-${key}`, { clusterName: this.cluster.name, principalArn, type: "STANDARD" });
      const policy = new EksAccessPolicyAssociation(this, `admin-${key}-policy`, {
        clusterName: this.cluster.name,
        principalArn: entry.principalArn,
        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        accessScope: { type: "cluster" },
      });
      movedFromPositionalId(entry, `admin-${i}`);
      movedFromPositionalId(policy, `admin-${i}-policy`);
    });

    this.oidcProvider = new IamOpenidConnectProvider(this, "oidc", {
      url: this.cluster.identity.get(0).oidc.get(0).issuer,
      clientIdList: ["sts.amazonaws.com"],
    });

    this.nodeRole = new ServiceRole(this, "node-role", {
      name: `${props.name}-node`,
      trust: trustService("ec2.amazonaws.com"),
      // Pull-only covers the project's repositories and the AWS-owned ones the managed add-ons' images come from.
      managedPolicies: ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore"],
    });

    const system = props.systemNodeGroup;
    this.systemNodeGroup = new EksNodeGroup(this, `nodes-${SYSTEM_NODE_GROUP}`, {
      clusterName: this.cluster.name,
      nodeGroupName: SYSTEM_NODE_GROUP,
      nodeRoleArn: this.nodeRole.arn,
      // Every private subnet: EKS balances the nodes across the zones.
      subnetIds: props.subnetIds,
      instanceTypes: system.instanceTypes,
      capacityType: "ON_DEMAND",
      amiType: system.architecture === "arm64" ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD",
      diskSize: system.diskSizeGb,
      taint: [{ key: CRITICAL_ADDONS_TAINT.key, effect: "NO_SCHEDULE" }],
      // A fixed size: no autoscaler manages this group, Karpenter least of all.
      scalingConfig: { minSize: system.nodeCount, maxSize: system.nodeCount, desiredSize: system.nodeCount },
      updateConfig: { maxUnavailable: 1 },
      dependsOn: this.nodeRole.dependables,
    });
    const nodeGroups = [this.systemNodeGroup];

    if (props.fargateNamespaces.length > 0) {
      const fargateRole = new ServiceRole(this, "fargate-role", {
        name: `${props.name}-fargate`,
        trust: trustService("eks-fargate-pods.amazonaws.com"),
        managedPolicies: ["AmazonEKSFargatePodExecutionRolePolicy"],
      });
      new EksFargateProfile(this, "fargate", {
        clusterName: this.cluster.name,
        fargateProfileName: "workloads",
        podExecutionRoleArn: fargateRole.arn,
        subnetIds: props.subnetIds,
        selector: props.fargateNamespaces.map((namespace) => ({ namespace })),
      });
    }

    const ebsCsiRole = new ServiceRole(this, "ebs-csi-role", {
      name: `${props.name}-ebs-csi`,
      trust: trustPodIdentity(),
      managedPolicies: ["service-role/AmazonEBSCSIDriverPolicy"],
    });
    // The EBS CSI driver's KMS use on encrypted volumes is covered by the default key policy.
    for (const addon of MANAGED_ADDONS) {
      new EksAddon(this, `addon-${addon}`, {
        clusterName: this.cluster.name,
        addonName: addon,
        resolveConflictsOnCreate: "OVERWRITE",
        resolveConflictsOnUpdate: "PRESERVE",
        configurationValues: ADDON_CONFIGURATION[addon] ? JSON.stringify(ADDON_CONFIGURATION[addon]) : undefined,
        podIdentityAssociation:
          addon === "aws-ebs-csi-driver" ? [{ roleArn: ebsCsiRole.arn, serviceAccount: "ebs-csi-controller-sa" }] : undefined,
        // coredns and the CSI controller need nodes to schedule on.
        dependsOn: addon === "coredns" || addon === "aws-ebs-csi-driver" ? nodeGroups : undefined,
      });
    }
  }

  /**
   * Gives a Kubernetes service account an IAM role through EKS Pod Identity.
   * The association lives here, so workloads need no annotation.
   */
  grantToServiceAccount(id: string, namespace: string, serviceAccount: string, statements: PolicyStatement[]): ServiceRole {
    const role = new ServiceRole(this, id, {
      name: `${this.name}-${id}`,
      trust: trustPodIdentity(),
      statements,
    });
    new EksPodIdentityAssociation(this, `${id}-association`, {
      clusterName: this.cluster.name,
      namespace,
      serviceAccount,
      roleArn: role.arn,
    });
    return role;
  }

  get host(): string {
    return this.cluster.endpoint;
  }

  get certificateAuthority(): string {
    return Fn.base64decode(this.cluster.certificateAuthority.get(0).data);
  }

  get oidcIssuerUrl(): string {
    return this.cluster.identity.get(0).oidc.get(0).issuer;
  }

  /** Short-lived tokens from the AWS CLI; nothing stored in state. */
  get exec(): ExecCredential {
    return {
      apiVersion: "client.authentication.k8s.io/v1beta1",
      command: "aws",
      args: ["eks", "get-token", "--cluster-name", this.name, "--region", this.region, "--output", "json"],
    };
  }

  /** The security group EKS attaches to managed nodes and the control plane. */
  get clusterSecurityGroupId(): string {
    return this.cluster.vpcConfig.clusterSecurityGroupId;
  }
}
