import type { PolicyStatement } from "./iam";
import { KARPENTER_DISCOVERY_TAG } from "./network";

/**
 * The Karpenter controller's IAM policy, after the reference policy of
 * Karpenter 1.14.1 (website/content/en/docs/getting-started/
 * getting-started-with-karpenter/cloudformation.yaml at the tag): every
 * action the reference grants is granted here, and a test holds the two side
 * by side (__tests__/upstream/karpenter-1.14.1-controller-policy.json).
 * Where this policy is narrower, it is by condition: subnets and security
 * groups must carry this cluster's discovery tag.
 */

/** The service-linked role EC2 launches Spot Instances with; one per account. */
export const SPOT_SERVICE_LINKED_ROLE = "AWSServiceRoleForEC2Spot";

export interface ControllerScope {
  readonly clusterName: string;
  readonly region: string;
  readonly clusterArn: string;
  readonly queueArn: string;
  readonly nodeRoleArn: string;
  /**
   * Whether a pool may launch Spot Instances: the controller may then have EC2
   * create the Spot service-linked role on the first Spot launch.
   * @default false
   */
  readonly spot?: boolean;
}

/**
 * The controller's permissions, after Karpenter's reference controller policy:
 * every create, tag and delete is conditioned on the `kubernetes.io/cluster/<name>`
 * and `eks:eks-cluster-name` tags of this cluster, so the role cannot touch
 * another cluster's instances, launch templates or instance profiles. Subnets
 * and security groups are further limited to those carrying this cluster's
 * discovery tag.
 */
export function controllerStatements(scope: ControllerScope): PolicyStatement[] {
  const { clusterName, region, clusterArn, queueArn, nodeRoleArn } = scope;
  const ec2 = (type: string, account = "*") => `arn:aws:ec2:${region}:${account}:${type}/*`;
  const owned = (kind: "RequestTag" | "ResourceTag") => ({ [`aws:${kind}/kubernetes.io/cluster/${clusterName}`]: "owned" });
  const launched = ["fleet", "instance", "volume", "network-interface", "launch-template", "spot-instances-request"].map((type) => ec2(type));
  const instanceProfiles = "arn:aws:iam::*:instance-profile/*";
  return [
    {
      Sid: "AllowScopedEC2InstanceAccessActions",
      Effect: "Allow",
      Action: ["ec2:RunInstances", "ec2:CreateFleet"],
      // Placement groups are used only by a node class that selects one; none does yet.
      Resource: [ec2("image", ""), ec2("snapshot", ""), ec2("capacity-reservation"), ec2("placement-group")],
    },
    {
      Sid: "AllowDiscoveredSubnetsAndSecurityGroups",
      Effect: "Allow",
      Action: ["ec2:RunInstances", "ec2:CreateFleet"],
      Resource: [ec2("subnet"), ec2("security-group")],
      Condition: { StringEquals: { [`aws:ResourceTag/${KARPENTER_DISCOVERY_TAG}`]: clusterName } },
    },
    {
      Sid: "AllowScopedEC2LaunchTemplateAccessActions",
      Effect: "Allow",
      Action: ["ec2:RunInstances", "ec2:CreateFleet"],
      Resource: ec2("launch-template"),
      Condition: { StringEquals: owned("ResourceTag"), StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" } },
    },
    {
      Sid: "AllowScopedEC2InstanceActionsWithTags",
      Effect: "Allow",
      Action: ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
      Resource: launched,
      Condition: {
        StringEquals: { ...owned("RequestTag"), "aws:RequestTag/eks:eks-cluster-name": clusterName },
        StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" },
      },
    },
    {
      Sid: "AllowScopedResourceCreationTagging",
      Effect: "Allow",
      Action: "ec2:CreateTags",
      Resource: launched,
      Condition: {
        StringEquals: {
          ...owned("RequestTag"),
          "aws:RequestTag/eks:eks-cluster-name": clusterName,
          "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
        },
        StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" },
      },
    },
    {
      Sid: "AllowScopedResourceTagging",
      Effect: "Allow",
      Action: "ec2:CreateTags",
      Resource: ec2("instance"),
      Condition: {
        StringEquals: owned("ResourceTag"),
        StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
        StringEqualsIfExists: { "aws:RequestTag/eks:eks-cluster-name": clusterName },
        "ForAllValues:StringEquals": { "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"] },
      },
    },
    {
      Sid: "AllowScopedDeletion",
      Effect: "Allow",
      Action: ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
      Resource: [ec2("instance"), ec2("launch-template")],
      Condition: { StringEquals: owned("ResourceTag"), StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" } },
    },
    {
      Sid: "AllowRegionalReadActions",
      Effect: "Allow",
      Action: [
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeCapacityReservations",
        "ec2:DescribeImages",
        "ec2:DescribeInstances",
        // Instance status health checks (scheduled events, impaired instances) since 1.14.
        "ec2:DescribeInstanceStatus",
        "ec2:DescribeInstanceTypeOfferings",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribePlacementGroups",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSpotPriceHistory",
        "ec2:DescribeSubnets",
      ],
      // Describe calls support no resource-level scoping.
      Resource: "*",
      Condition: { StringEquals: { "aws:RequestedRegion": region } },
    },
    { Sid: "AllowSSMReadActions", Effect: "Allow", Action: "ssm:GetParameter", Resource: `arn:aws:ssm:${region}::parameter/aws/service/*` },
    { Sid: "AllowPricingReadActions", Effect: "Allow", Action: "pricing:GetProducts", Resource: "*" },
    {
      Sid: "AllowInterruptionQueueActions",
      Effect: "Allow",
      Action: ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
      Resource: queueArn,
    },
    {
      Sid: "AllowPassingInstanceRole",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: nodeRoleArn,
      Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } },
    },
    {
      Sid: "AllowScopedInstanceProfileCreationActions",
      Effect: "Allow",
      Action: "iam:CreateInstanceProfile",
      Resource: instanceProfiles,
      Condition: {
        StringEquals: { ...owned("RequestTag"), "aws:RequestTag/eks:eks-cluster-name": clusterName, "aws:RequestTag/topology.kubernetes.io/region": region },
        StringLike: { "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*" },
      },
    },
    {
      Sid: "AllowScopedInstanceProfileTagActions",
      Effect: "Allow",
      Action: "iam:TagInstanceProfile",
      Resource: instanceProfiles,
      Condition: {
        StringEquals: {
          ...owned("ResourceTag"),
          "aws:ResourceTag/topology.kubernetes.io/region": region,
          ...owned("RequestTag"),
          "aws:RequestTag/eks:eks-cluster-name": clusterName,
          "aws:RequestTag/topology.kubernetes.io/region": region,
        },
        StringLike: { "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*", "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*" },
      },
    },
    {
      Sid: "AllowScopedInstanceProfileActions",
      Effect: "Allow",
      Action: ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
      Resource: instanceProfiles,
      Condition: {
        StringEquals: { ...owned("ResourceTag"), "aws:ResourceTag/topology.kubernetes.io/region": region },
        StringLike: { "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*" },
      },
    },
    { Sid: "AllowInstanceProfileReadActions", Effect: "Allow", Action: "iam:GetInstanceProfile", Resource: instanceProfiles },
    // Listing takes no resource scope; Karpenter lists to clean up profiles it left behind.
    { Sid: "AllowUnscopedInstanceProfileListAction", Effect: "Allow", Action: "iam:ListInstanceProfiles", Resource: "*" },
    { Sid: "AllowAPIServerEndpointDiscovery", Effect: "Allow", Action: "eks:DescribeCluster", Resource: clusterArn },
    {
      // Read only, and used only when the chart's settings.enableZonalShift is on.
      Sid: "AllowZonalShiftStatusReadOnly",
      Effect: "Allow",
      Action: "arc-zonal-shift:GetManagedResource",
      Resource: "*",
      Condition: { StringEquals: { "arc-zonal-shift:ResourceIdentifier": clusterArn } },
    },
    ...(scope.spot ? [spotServiceLinkedRoleStatement()] : []),
  ];
}

/**
 * EC2 creates its Spot service-linked role on an account's first Spot
 * request, with the requester's permission: without it, in an account that
 * has never run Spot, every Spot launch fails with
 * AuthFailure.ServiceLinkedRoleCreationNotPermitted and Karpenter quietly
 * launches on-demand instead. The role is account-wide; where it exists, this
 * is never used, and nothing in Terraform owns (or could delete) it.
 */
export function spotServiceLinkedRoleStatement(): PolicyStatement {
  return {
    Sid: "AllowSpotServiceLinkedRoleCreation",
    Effect: "Allow",
    Action: "iam:CreateServiceLinkedRole",
    Resource: `arn:aws:iam::*:role/aws-service-role/spot.amazonaws.com/${SPOT_SERVICE_LINKED_ROLE}`,
    Condition: { StringEquals: { "iam:AWSServiceName": "spot.amazonaws.com" } },
  };
}
