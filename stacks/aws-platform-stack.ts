import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { AwsConfig, PlatformConfig } from "../config";
import { AwsEksCluster } from "../constructs/aws/eks-cluster";
import { EncryptionKey } from "../constructs/aws/kms-key";
import { Network } from "../constructs/aws/network";
import { VpcFlowLogs } from "../constructs/aws/flow-logs";
import { EcrRegistry } from "../constructs/aws/registry";
import { setUpAwsStack } from "../constructs/aws/stack-setup";
import { boundedName } from "../constructs/common/naming";
import { IN_CLUSTER, platformSecretPrefix, type ClusterPlatform } from "../constructs/contract";

export interface AwsPlatformStackProps {
  readonly config: PlatformConfig;
  readonly aws: AwsConfig;
}

/**
 * The shared AWS platform: network, EKS, ECR and their keys. Stateful
 * per-environment resources live in the data stacks, so an apply here can
 * never touch a database.
 */
export class AwsPlatformStack extends TerraformStack implements ClusterPlatform {
  readonly cloud = "aws";
  readonly network: Network;
  readonly eks: AwsEksCluster;
  readonly ecr: EcrRegistry;
  readonly region: string;

  constructor(scope: Construct, id: string, props: AwsPlatformStackProps) {
    super(scope, id);
    const { config, aws } = props;
    setUpAwsStack(this, { config, aws, stackId: id, environment: "platform" });
    this.region = aws.region;

    // IAM role names derived from it are at most 64 characters.
    const clusterName = boundedName(40, config.project, "platform");

    this.network = new Network(this, "network", {
      name: clusterName,
      cidr: aws.network.vpcCidr,
      availabilityZones: aws.availabilityZones,
      natGateways: aws.network.natGateways,
      clusterName,
    });

    const flowLogsKey = new EncryptionKey(this, "flow-logs-key", {
      alias: `${clusterName}/flow-logs`,
      description: `VPC flow logs of ${clusterName}`,
      region: aws.region,
    });
    new VpcFlowLogs(this, "flow-logs", {
      name: clusterName,
      vpcId: this.network.vpc.id,
      region: aws.region,
      retentionDays: aws.network.flowLogRetentionDays,
      key: flowLogsKey,
    });

    const clusterKey = new EncryptionKey(this, "cluster-key", {
      alias: `${clusterName}/eks-secrets`,
      description: `Envelope encryption of Kubernetes secrets in ${clusterName}`,
      region: aws.region,
    });
    const registryKey = new EncryptionKey(this, "registry-key", {
      alias: `${clusterName}/ecr`,
      description: `Container images of ${config.project}`,
      region: aws.region,
      // ECR encrypts layers and reads them back for every pull through its own grants.
      viaServices: ["ecr"],
      // Images pushed under this key cannot be read without it.
      preventDestroy: true,
    });

    this.eks = new AwsEksCluster(this, "eks", {
      name: clusterName,
      region: aws.region,
      version: aws.cluster.version,
      subnetIds: this.network.privateSubnetIds,
      serviceCidr: aws.cluster.serviceCidr,
      secretsKey: clusterKey,
      publicAccessCidrs: aws.cluster.publicAccessCidrs,
      adminPrincipalArns: aws.cluster.adminPrincipalArns,
      bootstrapCreatorAdmin: aws.cluster.bootstrapCreatorAdmin,
      nodeGroups: aws.cluster.nodeGroups,
      fargateNamespaces: aws.cluster.fargateNamespaces,
    });

    this.ecr = new EcrRegistry(this, "ecr", {
      prefix: config.project,
      applications: config.applications.map((app) => app.name),
      kmsKeyArn: registryKey.arn,
      keepLastImages: aws.registry.keepLastImages,
      untaggedExpiryDays: aws.registry.untaggedExpiryDays,
    });

    this.eks.grantToServiceAccount("flux-image-reflector", IN_CLUSTER.flux.namespace, IN_CLUSTER.flux.imageReflectorServiceAccount, this.ecr.pullStatements());
    this.eks.grantToServiceAccount("external-secrets", IN_CLUSTER.externalSecrets.namespace, IN_CLUSTER.externalSecrets.serviceAccount, [
      {
        Sid: "ReadPlatformSecrets",
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"],
        // By name, not by tag: RDS-managed database secrets must stay out of reach.
        Resource: `arn:aws:secretsmanager:${aws.region}:*:secret:${platformSecretPrefix(config.project)}*`,
      },
    ]);

    new TerraformOutput(this, "cluster_name", { value: this.eks.cluster.name });
    new TerraformOutput(this, "cluster_endpoint", { value: this.eks.host });
    new TerraformOutput(this, "registry", { value: this.ecr.loginServer });
    new TerraformOutput(this, "kubeconfig_command", {
      value: `aws eks update-kubeconfig --name ${clusterName} --region ${aws.region}`,
    });
  }

  get cluster() {
    return { name: this.eks.cluster.name, host: this.eks.host, clusterCaCertificate: this.eks.certificateAuthority, exec: this.eks.exec };
  }

  get storageClass() {
    return { name: "gp3", provisioner: "ebs.csi.aws.com", parameters: { type: "gp3", encrypted: "true" } };
  }

  get registry() {
    return { loginServer: this.ecr.loginServer, repositories: this.ecr.repositoryUrls, fluxProvider: "aws" as const };
  }

  get identities() {
    // Pod Identity associations carry the roles; service accounts need no annotation.
    const none = { serviceAccountAnnotations: {}, podLabels: {} };
    return { fluxImageReflector: none, externalSecrets: none };
  }

  get clusterSecretStore() {
    return { aws: { service: "SecretsManager", region: this.region } };
  }
}
