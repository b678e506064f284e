import { Fn, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { AwsConfig, PlatformConfig } from "../config";
import { AwsEksCluster } from "../constructs/aws/eks-cluster";
import { ExternalMonitoring } from "../constructs/aws/external-monitoring";
import { EncryptionKey } from "../constructs/aws/kms-key";
import { Network } from "../constructs/aws/network";
import { EcrRegistry } from "../constructs/aws/registry";
import { setUpAwsStack } from "../constructs/aws/stack-setup";
import { boundedName, standardTags } from "../constructs/common/naming";
import { uptimeTargets } from "../constructs/common/uptime-targets";
import { IN_CLUSTER, platformSecretPrefix, type AlertHeartbeat, type ClusterPlatform } from "../constructs/contract";

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
  readonly externalMonitoring: ExternalMonitoring;
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

    const clusterKey = new EncryptionKey(this, "cluster-key", {
      alias: `${clusterName}/eks-secrets`,
      description: `Envelope encryption of Kubernetes secrets in ${clusterName}`,
    });
    const registryKey = new EncryptionKey(this, "registry-key", {
      alias: `${clusterName}/ecr`,
      description: `Container images of ${config.project}`,
      // Images pushed under this key cannot be read without it.
      preventDestroy: true,
    });

    this.eks = new AwsEksCluster(this, "eks", {
      name: clusterName,
      region: aws.region,
      version: aws.cluster.version,
      subnetIds: this.network.privateSubnetIds,
      serviceCidr: aws.cluster.serviceCidr,
      secretsKeyArn: clusterKey.arn,
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

    // Here, beside the cluster it watches and outside every environment's
    // data: the uptime checks cover all exposed environments, and the
    // heartbeat needs the cluster's Alertmanager identity.
    this.externalMonitoring = new ExternalMonitoring(this, "external-monitoring", {
      name: clusterName,
      // The account of a key this stack creates: its ARN's fifth field.
      accountId: Fn.element(Fn.split(":", clusterKey.arn), 4),
      alertEmails: config.alerts.emails,
      uptimeTargets: uptimeTargets(config),
      tags: { ...config.tags, ...standardTags(config.project, "platform") },
    });
    this.eks.grantToServiceAccount(
      "alertmanager-heartbeat",
      IN_CLUSTER.alertmanager.namespace,
      IN_CLUSTER.alertmanager.serviceAccount,
      this.externalMonitoring.publishHeartbeatStatements(),
    );

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

  get alertHeartbeat(): AlertHeartbeat {
    // The Pod Identity association carries the role; no annotation needed.
    return { receiver: this.externalMonitoring.heartbeatReceiver(), identity: { serviceAccountAnnotations: {}, podLabels: {} } };
  }
}
