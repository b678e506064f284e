import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { AwsConfig, PlatformConfig } from "../config";
import { logRetention } from "../config/logs";
import type { DatabaseNetwork } from "../constructs/aws/database-server";
import { EksCiAccess } from "../constructs/aws/ci-cluster-access";
import { EnvironmentBoundary } from "../constructs/aws/environment-boundary";
import { AwsEksCluster } from "../constructs/aws/eks-cluster";
import { Karpenter } from "../constructs/aws/karpenter";
import { ExternalMonitoring } from "../constructs/aws/external-monitoring";
import { networkLoadBalancerGateway } from "../constructs/aws/ingress-gateway";
import { EncryptionKey } from "../constructs/aws/kms-key";
import { LogBucket } from "../constructs/aws/log-bucket";
import { Network } from "../constructs/aws/network";
import { PublicZone } from "../constructs/aws/public-zone";
import { VpcFlowLogs } from "../constructs/aws/flow-logs";
import { EcrRegistry } from "../constructs/aws/registry";
import { setUpAwsStack } from "../constructs/aws/stack-setup";
import { boundedName, standardTags } from "../constructs/common/naming";
import { productionEnvironments, uptimeTargets } from "../constructs/common/uptime-targets";
import { IN_CLUSTER, platformSecretPrefix, type AlertHeartbeat, type CiSubjects, type ClusterPlatform, type IngressGateway, type LogStorage, type PublicDns } from "../constructs/contract";

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
  readonly karpenter: Karpenter;
  readonly logBucket: LogBucket;
  readonly zone: PublicZone;
  readonly externalMonitoring: ExternalMonitoring;
  readonly region: string;
  /** The CI roles' cluster access, when the config has `ci`. */
  readonly ciAccess?: EksCiAccess;
  /** The permissions boundary of the roles the CI deploy identity creates, when the config has `ci`. */
  readonly environmentBoundary?: EnvironmentBoundary;
  private readonly clusterName: string;

  constructor(scope: Construct, id: string, props: AwsPlatformStackProps) {
    super(scope, id);
    const { config, aws } = props;
    setUpAwsStack(this, { config, aws, stackId: id, environment: "platform" });
    this.region = aws.region;

    // IAM role names derived from it are at most 64 characters.
    const clusterName = boundedName(40, config.project, "platform");
    this.clusterName = clusterName;

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
      // With CI the production role is granted explicitly, never as the cluster's creator.
      bootstrapCreatorAdmin: aws.cluster.bootstrapCreatorAdmin ?? config.ci === undefined,
      systemNodeGroup: aws.cluster.systemNodeGroup,
      fargateNamespaces: aws.cluster.fargateNamespaces,
    });

    // The CI roles aws-bootstrap creates, by name: explicit grants, whoever applies.
    if (config.ci) {
      // What a role the deploy identity creates may do at most (stacks/aws.ts puts it on each).
      const production = config.environments.filter((env) => env.stage === "production").map((env) => env.name);
      this.environmentBoundary = new EnvironmentBoundary(this, "environment-boundary", {
        project: config.project,
        environments: config.environments.filter((env) => env.stage !== "production").map((env) => env.name),
        protectedEnvironments: ["platform", ...production],
      });
      this.ciAccess = new EksCiAccess(this, "ci-access", {
        clusterName: this.eks.cluster.name,
        clusterArn: this.eks.cluster.arn,
        project: config.project,
        deployNamespaces: config.environments.filter((env) => env.stage !== "production").map((env) => env.name),
      });
    }

    // Workload capacity: Karpenter launches nodes within the configured pools' limits.
    this.karpenter = new Karpenter(this, "karpenter", {
      eks: this.eks,
      clusterName,
      region: aws.region,
      nodePools: aws.cluster.nodePools,
      amiVersion: aws.cluster.nodePoolAmiVersion,
      // The provider's default tags do not reach instances Karpenter launches.
      tags: { ...config.tags, ...standardTags(config.project, "platform"), "managed-by": "karpenter" },
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

    // Loki's role: created bare, so that the bucket's key policy can name it
    // and its one policy can name the bucket and the key.
    const lokiRole = this.eks.grantToServiceAccount("loki", IN_CLUSTER.logs.namespace, IN_CLUSTER.logs.serviceAccount, []);
    this.logBucket = new LogBucket(this, "log-bucket", {
      namePrefix: config.project,
      region: aws.region,
      expiryDays: logRetention(config).storageExpiryDays,
      userRoleArn: lokiRole.arn,
      protect: config.environments.some((env) => env.stage === "production"),
    });
    lokiRole.addInlinePolicy("log-bucket", this.logBucket.accessStatements());
    // DNS: the public zone, and the two in-cluster identities that may change it.
    this.zone = new PublicZone(this, "public-zone", {
      name: config.domain.existingZone?.name ?? config.domain.base,
      existing: config.domain.existingZone !== undefined,
      comment: `Routes of ${config.project}, managed by external-dns and cert-manager`,
    });
    this.eks.grantToServiceAccount("external-dns", IN_CLUSTER.externalDns.namespace, IN_CLUSTER.externalDns.serviceAccount, this.zone.recordManagerStatements());
    this.eks.grantToServiceAccount("cert-manager", IN_CLUSTER.certManager.namespace, IN_CLUSTER.certManager.serviceAccount, this.zone.acmeChallengeStatements());
    if (this.zone.nameServers) {
      new TerraformOutput(this, "dns_name_servers", { value: this.zone.nameServers, description: `Delegate ${this.zone.name} to these at the registrar` });
    }
    // Here, beside the cluster it watches and outside every environment's
    // data: the uptime checks cover all exposed environments, and the
    // heartbeat needs the cluster's Alertmanager identity.
    this.externalMonitoring = new ExternalMonitoring(this, "external-monitoring", {
      name: clusterName,
      alertEmails: config.alerts.emails,
      pageEmail: config.alerts.pager?.email,
      pagedEnvironments: productionEnvironments(config),
      uptimeTargets: uptimeTargets(config),
      tags: { ...config.tags, ...standardTags(config.project, "platform") },
    });
    const heartbeatPublisher = this.eks.grantToServiceAccount(
      "alertmanager-heartbeat",
      IN_CLUSTER.alertmanager.namespace,
      IN_CLUSTER.alertmanager.serviceAccount,
      this.externalMonitoring.publishHeartbeatStatements(),
    );
    this.externalMonitoring.allowHeartbeatPublisher(heartbeatPublisher.arn);

    new TerraformOutput(this, "cluster_name", { value: this.eks.cluster.name });
    new TerraformOutput(this, "cluster_endpoint", { value: this.eks.host });
    new TerraformOutput(this, "registry", { value: this.ecr.loginServer });
    // Read by `npm run doctor`.
    new TerraformOutput(this, "dns_zone_id", { value: this.zone.zoneId });
    new TerraformOutput(this, "heartbeat_alarm", { value: this.externalMonitoring.heartbeatAlarm.alarmName });
    new TerraformOutput(this, "kubeconfig_command", {
      value: `aws eks update-kubeconfig --name ${clusterName} --region ${aws.region}`,
    });
  }

  /** Where the data stacks put databases, and the nodes that may connect to them. */
  get databaseNetwork(): DatabaseNetwork {
    return { vpcId: this.network.vpc.id, subnetIds: this.network.databaseSubnetIds, clientSecurityGroupId: this.eks.clusterSecurityGroupId };
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

  get capacity() {
    // EKS neither scales nodes nor serves resource metrics on its own.
    return { nodeAutoscaler: this.karpenter.nodeAutoscaler, resourceMetricsBuiltIn: false };
  }

  get logStorage(): LogStorage {
    const bucket = this.logBucket.name;
    return {
      objectStore: "s3",
      // No keys: the AWS SDK in Loki takes Pod Identity's credentials.
      lokiStorage: { type: "s3", bucketNames: { chunks: bucket, ruler: bucket, admin: bucket }, s3: { region: this.region } },
      // The Pod Identity association carries the role; nothing to annotate.
      identity: { serviceAccountAnnotations: {}, podLabels: {} },
    };
  }

  get dns(): PublicDns {
    // Pod Identity associations carry the roles, as for the other identities.
    const none = { serviceAccountAnnotations: {}, podLabels: {} };
    return {
      zoneName: this.zone.name,
      externalDns: {
        provider: "aws",
        // The zone id pins the one zone; matching the parent keeps an existing
        // zone that is a parent of the base domain (the domain filter alone
        // drops a zone whose name is not under the base domain).
        args: [`--zone-id-filter=${this.zone.zoneId}`, "--aws-zone-type=public", "--aws-zone-match-parent"],
        // Route 53 is global, but the SDK wants a region for its endpoint.
        env: [{ name: "AWS_REGION", value: this.region }],
        ownerId: `eks/${this.region}/${this.clusterName}`,
        configFiles: {},
        identity: none,
      },
      certManager: { dns01: { route53: { region: this.region, hostedZoneID: this.zone.zoneId } }, identity: none },
    };
  }

  get ingressGateway(): IngressGateway {
    return networkLoadBalancerGateway();
  }

  get ci(): CiSubjects | undefined {
    return this.ciAccess?.subjects;
  }

  get alertHeartbeat(): AlertHeartbeat {
    // The Pod Identity association carries the role; no annotation needed.
    return { receiver: this.externalMonitoring.heartbeatReceiver(), identity: { serviceAccountAnnotations: {}, podLabels: {} } };
  }
}
