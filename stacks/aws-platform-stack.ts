import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { AwsConfig, PlatformConfig } from "../config";
import { logRetention } from "../config/logs";
import type { DatabaseNetwork } from "../constructs/aws/database-server";
import { EksCiAccess } from "../constructs/aws/ci-cluster-access";
import { EnvironmentBoundary } from "../constructs/aws/environment-boundary";
import { AwsEksCluster } from "../constructs/aws/eks-cluster";
import { Karpenter } from "../constructs/aws/karpenter";
import { AwsUptimeChecks } from "../constructs/aws/uptime-checks";
import { networkLoadBalancerGateway } from "../constructs/aws/ingress-gateway";
import { EncryptionKey } from "../constructs/aws/kms-key";
import { AwsLogStore } from "../constructs/aws/log-store";
import { Network } from "../constructs/aws/network";
import { PublicZone } from "../constructs/aws/public-zone";
import { VpcFlowLogs } from "../constructs/aws/flow-logs";
import { EcrRegistry, ecrPullStatements, ecrRepositoryName } from "../constructs/aws/registry";
import { EcrPushEvents } from "../constructs/aws/ecr-push-events";
import type { PolicyStatement } from "../constructs/aws/iam";
import { ciDeployNamespaces } from "./deployment";
import { relaySharedValues } from "../constructs/common/shared-values";
import { setUpAwsStack } from "../constructs/aws/stack-setup";
import { clusterNameParts, otherClusterRanges, DEFAULT_CLUSTER, privateZoneName, type ClusterConfig } from "../config/clusters";
import { Route } from "@cdktf/provider-aws/lib/route";
import { Route53Zone } from "@cdktf/provider-aws/lib/route53-zone";
import { privateMonitoringStatements } from "../constructs/aws/public-zone";
import { AWS_LOAD_BALANCER_TYPE } from "../constructs/aws/ingress-gateway";
import { boundedName, standardTags } from "../constructs/common/naming";
import { productionEnvironments, uptimeTargets } from "../constructs/common/uptime-targets";
import { anyEnvironmentWhere, environmentsWhere } from "../config/stages";
import { clusterPrivateDomain, IN_CLUSTER, platformSecretPrefix, privateMonitoringHost, type AlertHeartbeat, type PrivateMonitoring, type CiSubjects, type ClusterPlatform, type IngressGateway, type LogStore, type PublicDns, type RegistryWebhookAccess, type WorkloadIdentity } from "../constructs/contract";

/** The tools cluster's network and private zone, as another cluster's platform peers with and writes to them. */
export interface ToolsNetwork {
  [key: string]: string | Record<string, string>;
  readonly name: string;
  readonly vpcId: string;
  readonly cidr: string;
  readonly privateZoneId: string;
  /** Its private route tables, by zone. */
  readonly routeTableIds: Record<string, string>;
}

export interface AwsPlatformStackProps {
  /** The config as this cluster sees it: its environments only. */
  readonly config: PlatformConfig;
  /** The cloud's settings with the cluster's own network and cluster fields. */
  readonly aws: AwsConfig;
  /** Default: the one cluster `main`, holding the shared resources. */
  readonly cluster?: ClusterConfig;
  /** The platform holding the cloud's shared DNS zone and registry, when this is not it. */
  readonly shared?: AwsPlatformStack;
  /**
   * Every environment of the config, for what the platform holding the shared
   * resources makes for all clusters (the deploy roles' boundary).
   * @default config.environments
   */
  readonly allEnvironments?: PlatformConfig["environments"];
}

/**
 * One cluster's AWS platform: network, EKS and their keys, the log bucket and
 * the identities of in-cluster components; the first cluster's also holds
 * the cloud's DNS zone and ECR, which the others use (docs/topology.md).
 * Stateful per-environment resources live in the data stacks, so an apply
 * here can never touch a database.
 */
export class AwsPlatformStack extends TerraformStack implements ClusterPlatform {
  readonly cloud = "aws";
  readonly network: Network;
  readonly eks: AwsEksCluster;
  readonly ecr: EcrRegistry;
  readonly karpenter: Karpenter;
  readonly logBucket: AwsLogStore;
  readonly zone: PublicZone;
  readonly uptimeChecks: AwsUptimeChecks;
  readonly region: string;
  /** The CI roles' cluster access, when the config has `ci`. */
  readonly ciAccess?: EksCiAccess;
  /** The permissions boundary of the roles the CI deploy identity creates, when the config has `ci`. */
  readonly environmentBoundary?: EnvironmentBoundary;
  private readonly clusterName: string;
  /** Per environment, what points its registry pushes at its Receiver: with `gitops.receivers.registry`. */
  readonly registryWebhooks?: Record<string, RegistryWebhookAccess>;
  private readonly clusterShortName: string;
  private readonly baseDomain: string;
  private hasCiRunners = false;
  /**
   * On the tools cluster: its network and the private zone the other
   * clusters publish their Prometheus and Loki in, for their platforms to
   * peer with and write to.
   */
  readonly toolsNetwork?: ToolsNetwork;
  /** On the tools cluster: the other clusters' ranges, which its network is peered with. */
  readonly peeredRanges?: readonly string[];
  /** On a workload cluster of a cloud with a tools cluster: that network, as this stack reads it. */
  private readonly toolsPeer?: ToolsNetwork;
  /** The shared zone's and registry's values as this stack's stacks read them (`relayShared`). */
  private readonly sharedValues: { zoneId: string; loginServer: string; repositoryUrls: Record<string, string>; repositoryArns: Record<string, string>; boundaryArn?: string };

  constructor(scope: Construct, id: string, props: AwsPlatformStackProps) {
    super(scope, id);
    const { config, aws, shared } = props;
    const cluster = props.cluster?.name ?? DEFAULT_CLUSTER;
    setUpAwsStack(this, { config, aws, stackId: id, environment: "platform" });
    this.region = aws.region;
    // IAM role names derived from it are at most 64 characters.
    this.clusterName = boundedName(40, ...clusterNameParts(config.project, cluster));
    this.clusterShortName = cluster;
    this.baseDomain = config.domain.base;
    // The tools cluster comes first (config rule), so it is the shared platform of the others.
    this.toolsPeer = shared?.toolsNetwork && relaySharedValues(this, true, shared.toolsNetwork);

    // The steps, in the order their resources depend on each other.
    this.network = this.addNetwork(aws, props.cluster?.role === "tools");
    if (props.cluster?.role === "tools") {
      this.toolsNetwork = this.addPrivateZone(config, aws);
      this.peeredRanges = otherClusterRanges(config, "aws", cluster);
    }
    if (this.toolsPeer) this.addReturnRoutes(aws, this.toolsPeer);
    const registryKey = shared ? undefined : this.addRegistryKey(config, aws);
    this.eks = this.addCluster(config, aws);
    this.environmentBoundary = shared ? undefined : this.addEnvironmentBoundary(config, props.allEnvironments ?? config.environments);
    this.ciAccess = this.addCiAccess(config);
    this.karpenter = this.addCapacity(config, aws);
    this.ecr = shared?.ecr ?? this.addRegistry(config, aws, registryKey!);
    this.addIdentities(config, aws);
    this.logBucket = this.addLogStore(config, aws, cluster);
    this.zone = shared?.zone ?? this.addZone(config);
    this.eks.grantToServiceAccount("external-dns", IN_CLUSTER.externalDns.namespace, IN_CLUSTER.externalDns.serviceAccount, [
      ...this.zone.recordManagerStatements(),
      ...(this.toolsPeer ? privateMonitoringStatements(this.toolsPeer.privateZoneId, clusterPrivateDomain(cluster, config.domain.base)) : []),
    ]);
    this.eks.grantToServiceAccount("cert-manager", IN_CLUSTER.certManager.namespace, IN_CLUSTER.certManager.serviceAccount, this.zone.acmeChallengeStatements());
    this.uptimeChecks = this.addUptimeChecks(config);
    if (props.cluster?.role === "tools") this.addCiRunnerIdentity();
    if (config.gitops.receivers.registry) this.registryWebhooks = this.addPushEvents(config, aws);
    const boundary = (shared ?? this).environmentBoundary;
    this.sharedValues = relaySharedValues(this, shared !== undefined, {
      zoneId: this.zone.zoneId,
      loginServer: this.ecr.loginServer,
      repositoryUrls: this.ecr.repositoryUrls,
      repositoryArns: this.ecr.repositoryArns,
      ...(boundary ? { boundaryArn: boundary.policy.arn } : {}),
    });
    this.addOutputs(aws);
  }

  /** The permissions boundary of the roles the CI deploy identity creates, when the config has `ci`. */
  get environmentBoundaryArn(): string | undefined {
    return this.sharedValues.boundaryArn;
  }

  /** What lets the cluster's workloads pull the applications' images. */
  registryPullStatements(): PolicyStatement[] {
    return ecrPullStatements(Object.values(this.sharedValues.repositoryArns));
  }

  private addNetwork(aws: AwsConfig, tools: boolean): Network {
    const network = new Network(this, "network", {
      name: this.clusterName,
      cidr: aws.network.vpcCidr,
      availabilityZones: aws.availabilityZones,
      natGateways: aws.network.natGateways,
      clusterName: this.clusterName,
      routesApart: tools,
      peer: this.toolsPeer && { name: this.toolsPeer.name, vpcId: this.toolsPeer.vpcId, cidr: this.toolsPeer.cidr },
    });
    const flowLogsKey = new EncryptionKey(this, "flow-logs-key", {
      alias: `${this.clusterName}/flow-logs`,
      description: `VPC flow logs of ${this.clusterName}`,
      region: aws.region,
    });
    new VpcFlowLogs(this, "flow-logs", {
      name: this.clusterName,
      vpcId: network.vpc.id,
      retentionDays: aws.network.flowLogRetentionDays,
      key: flowLogsKey,
    });
    return network;
  }

  /**
   * The private zone `internal.<base domain>`, resolved in the tools
   * cluster's VPC only: the other clusters' external-dns write their
   * Prometheus's and Loki's names in it, each under its own cluster's name.
   * Its records are the clusters' to recreate, so it goes with its records.
   */
  private addPrivateZone(config: PlatformConfig, aws: AwsConfig): ToolsNetwork {
    const zone = new Route53Zone(this, "private-zone", {
      name: privateZoneName(config.domain.base),
      comment: `Where the clusters of ${config.project} publish their monitoring to the tools cluster`,
      vpc: [{ vpcId: this.network.vpc.id, vpcRegion: aws.region }],
      forceDestroy: true,
    });
    return {
      name: this.clusterShortName,
      vpcId: this.network.vpc.id,
      cidr: aws.network.vpcCidr,
      privateZoneId: zone.zoneId,
      routeTableIds: Object.fromEntries(this.network.privateRouteTables.map((table, i) => [aws.availabilityZones[i], table.id])),
    };
  }

  /** The tools cluster's way back over this cluster's peering, in each of its private route tables. */
  private addReturnRoutes(aws: AwsConfig, tools: ToolsNetwork): void {
    for (const [zone, routeTableId] of Object.entries(tools.routeTableIds)) {
      new Route(this, `tools-route-${zone}`, { routeTableId, destinationCidrBlock: aws.network.vpcCidr, vpcPeeringConnectionId: this.network.peering!.id });
    }
  }

  /** The registry's key, when this platform holds the registry. */
  private addRegistryKey(config: PlatformConfig, aws: AwsConfig): EncryptionKey {
    return new EncryptionKey(this, "registry-key", {
      alias: `${this.clusterName}/ecr`,
      description: `Container images of ${config.project}`,
      region: aws.region,
      // ECR encrypts layers and reads them back for every pull through its own grants.
      viaServices: ["ecr"],
      // Images pushed under this key cannot be read without it.
      preventDestroy: true,
    });
  }

  private addCluster(config: PlatformConfig, aws: AwsConfig): AwsEksCluster {
    const clusterKey = new EncryptionKey(this, "cluster-key", {
      alias: `${this.clusterName}/eks-secrets`,
      description: `Envelope encryption of Kubernetes secrets in ${this.clusterName}`,
      region: aws.region,
    });
    return new AwsEksCluster(this, "eks", {
      name: this.clusterName,
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
  }

  /**
   * What a role the deploy identity creates may do at most (stacks/aws.ts
   * puts it on each): one policy per account, for the environments of every
   * cluster, in the platform holding the shared resources.
   */
  private addEnvironmentBoundary(config: PlatformConfig, environments: PlatformConfig["environments"]): EnvironmentBoundary | undefined {
    if (!config.ci) return undefined;
    return new EnvironmentBoundary(this, "environment-boundary", {
      project: config.project,
      environments: environmentsWhere(environments, (stage) => stage.ciIdentity === "deploy"),
      protectedEnvironments: ["platform", ...productionEnvironments({ environments })],
    });
  }

  /** The CI roles aws-bootstrap creates, by name: explicit grants, whoever applies. */
  private addCiAccess(config: PlatformConfig): EksCiAccess | undefined {
    if (!config.ci) return undefined;
    return new EksCiAccess(this, "ci-access", {
      clusterName: this.eks.cluster.name,
      clusterArn: this.eks.cluster.arn,
      project: config.project,
      deployNamespaces: ciDeployNamespaces(config),
    });
  }

  /** Workload capacity: Karpenter launches nodes within the configured pools' limits. */
  private addCapacity(config: PlatformConfig, aws: AwsConfig): Karpenter {
    return new Karpenter(this, "karpenter", {
      eks: this.eks,
      clusterName: this.clusterName,
      region: aws.region,
      nodePools: aws.cluster.nodePools,
      amiVersion: aws.cluster.nodePoolAmiVersion,
      // The cluster view has previews only where they borrow an environment.
      previewQuota: config.previews?.quota,
      // The provider's default tags do not reach instances Karpenter launches.
      tags: { ...config.tags, ...standardTags(config.project, "platform"), "managed-by": "karpenter" },
    });
  }

  private addRegistry(config: PlatformConfig, aws: AwsConfig, key: EncryptionKey): EcrRegistry {
    return new EcrRegistry(this, "ecr", {
      prefix: config.project,
      applications: config.applications.map((app) => app.name),
      kmsKeyArn: key.arn,
      keepLastImages: aws.registry.keepLastImages,
      untaggedExpiryDays: aws.registry.untaggedExpiryDays,
    });
  }

  /** The in-cluster services' own roles: image scanning and platform secrets. */
  private addIdentities(config: PlatformConfig, aws: AwsConfig): void {
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
  }

  /** Each environment's successful pushes, by EventBridge to its Receiver. */
  private addPushEvents(config: PlatformConfig, aws: AwsConfig): Record<string, RegistryWebhookAccess> {
    return Object.fromEntries(
      config.environments.map((environment) => {
        const events = new EcrPushEvents(this, `push-events-${environment.name}`, {
          clusterName: this.clusterName,
          environment: environment.name,
          repositoryNames: environment.applications.map((app) => ecrRepositoryName(config.project, app)),
          region: aws.region,
          eks: this.eks,
        });
        return [environment.name, events.access];
      }),
    );
  }

  /**
   * The runner pods' own role, with no permission: the pods' default
   * credentials are then this empty role, never the node role, and every
   * workflow step acts through the CI role its OIDC token assumes.
   */
  private addCiRunnerIdentity(): void {
    this.eks.grantToServiceAccount("ci-runner", IN_CLUSTER.ciRunners.namespace, IN_CLUSTER.ciRunners.serviceAccount, []);
    this.hasCiRunners = true;
  }

  /**
   * Loki's role, created bare so that the bucket's key policy can name it,
   * and the cluster's own log bucket.
   */
  private addLogStore(config: PlatformConfig, aws: AwsConfig, cluster: string): AwsLogStore {
    const lokiRole = this.eks.grantToServiceAccount("loki", IN_CLUSTER.logs.namespace, IN_CLUSTER.logs.serviceAccount, []);
    const bucket = new AwsLogStore(this, "log-bucket", {
      namePrefix: cluster === DEFAULT_CLUSTER ? config.project : `${config.project}-${cluster}`,
      region: aws.region,
      expiryDays: logRetention(config).storageExpiryDays,
      userRoleArn: lokiRole.arn,
      protect: anyEnvironmentWhere(config.environments, (stage) => stage.protectData),
    });
    lokiRole.addInlinePolicy("log-bucket", bucket.accessStatements());
    return bucket;
  }

  /** The public zone; external-dns and cert-manager of every cluster may change it. */
  private addZone(config: PlatformConfig): PublicZone {
    const zone = new PublicZone(this, "public-zone", {
      name: config.domain.existingZone?.name ?? config.domain.base,
      existing: config.domain.existingZone !== undefined,
      comment: `Routes of ${config.project}, managed by external-dns and cert-manager`,
    });
    if (zone.nameServers) {
      new TerraformOutput(this, "dns_name_servers", { value: zone.nameServers, description: `Delegate ${zone.name} to these at the registrar` });
    }
    return zone;
  }

  /**
   * Here, beside the cluster it watches and outside every environment's
   * data: the uptime checks cover the cluster's exposed environments, and
   * the heartbeat needs the cluster's Alertmanager identity.
   */
  private addUptimeChecks(config: PlatformConfig): AwsUptimeChecks {
    const monitoring = new AwsUptimeChecks(this, "external-monitoring", {
      name: this.clusterName,
      alertEmails: config.alerts.emails,
      pageEmail: config.alerts.pager?.email,
      pagedEnvironments: environmentsWhere(config.environments, (stage) => stage.pages),
      uptimeTargets: uptimeTargets(config),
      tags: { ...config.tags, ...standardTags(config.project, "platform") },
    });
    const heartbeatPublisher = this.eks.grantToServiceAccount(
      "alertmanager-heartbeat",
      IN_CLUSTER.alertmanager.namespace,
      IN_CLUSTER.alertmanager.serviceAccount,
      monitoring.publishHeartbeatStatements(),
    );
    monitoring.allowHeartbeatPublisher(heartbeatPublisher.arn);
    return monitoring;
  }

  private addOutputs(aws: AwsConfig): void {
    new TerraformOutput(this, "cluster_name", { value: this.eks.cluster.name });
    new TerraformOutput(this, "cluster_endpoint", { value: this.eks.host });
    new TerraformOutput(this, "registry", { value: this.sharedValues.loginServer });
    // Read by `npm run doctor`.
    new TerraformOutput(this, "dns_zone_id", { value: this.sharedValues.zoneId });
    new TerraformOutput(this, "heartbeat_alarm", { value: this.uptimeChecks.heartbeatAlarm.alarmName });
    new TerraformOutput(this, "kubeconfig_command", {
      value: `aws eks update-kubeconfig --name ${this.clusterName} --region ${aws.region}`,
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
    return { loginServer: this.sharedValues.loginServer, repositories: this.sharedValues.repositoryUrls, fluxProvider: "aws" as const, webhookReceiver: "generic" as const };
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
    return { nodeAutoscaler: this.karpenter.nodeAutoscaler, resourceMetricsBuiltIn: false, previewNodes: this.karpenter.previewNodes };
  }

  get logStore(): LogStore {
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
        // With a tools cluster, the private zone too: both pinned by id, so the zone type filter goes.
        args: this.toolsPeer
          ? [`--zone-id-filter=${this.sharedValues.zoneId}`, `--zone-id-filter=${this.toolsPeer.privateZoneId}`, "--aws-zone-match-parent"]
          : [`--zone-id-filter=${this.sharedValues.zoneId}`, "--aws-zone-type=public", "--aws-zone-match-parent"],
        // Route 53 is global, but the SDK wants a region for its endpoint.
        env: [{ name: "AWS_REGION", value: this.region }],
        ownerId: `eks/${this.region}/${this.clusterName}`,
        configFiles: {},
        identity: none,
      },
      certManager: { dns01: { route53: { region: this.region, hostedZoneID: this.sharedValues.zoneId } }, identity: none },
    };
  }

  get ingressGateway(): IngressGateway {
    return networkLoadBalancerGateway();
  }

  get ci(): CiSubjects | undefined {
    return this.ciAccess?.subjects;
  }

  get ciRunner(): WorkloadIdentity | undefined {
    // The Pod Identity association carries the role; no annotation needed.
    return this.hasCiRunners ? { serviceAccountAnnotations: {}, podLabels: {} } : undefined;
  }

  get privateMonitoring(): PrivateMonitoring | undefined {
    const tools = this.toolsPeer;
    if (!tools) return undefined;
    // An internal NLB from the service controller EKS runs, admitting the tools cluster's range alone
    // (it opens the nodes' security group to that range only), named in the private zone by external-dns.
    const annotations = (service: "prometheus" | "loki") => ({
      [AWS_LOAD_BALANCER_TYPE]: "nlb",
      "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
      "service.beta.kubernetes.io/load-balancer-source-ranges": tools.cidr,
      "external-dns.alpha.kubernetes.io/hostname": privateMonitoringHost(service, this.clusterShortName, this.baseDomain),
    });
    return { serviceAnnotations: { prometheus: annotations("prometheus"), loki: annotations("loki") } };
  }

  get alertHeartbeat(): AlertHeartbeat {
    // The Pod Identity association carries the role; no annotation needed.
    return { receiver: this.uptimeChecks.heartbeatReceiver(), identity: { serviceAccountAnnotations: {}, podLabels: {} } };
  }
}
