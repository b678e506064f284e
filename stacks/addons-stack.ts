import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import { TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { PlatformConfig } from "../config";
import { logRetention } from "../config/logs";
import { PAGER_SECRET_SUFFIX } from "../config/pager";
import { CertManagerAddon, routesCertificate } from "../constructs/addons/cert-manager";
import { ExternalDnsAddon } from "../constructs/addons/external-dns";
import { ExternalSecretsAddon, CLUSTER_SECRET_STORE } from "../constructs/addons/external-secrets";
import { CentralGrafana, clusterMonitoringScrape } from "../constructs/addons/central-grafana";
import { prometheusRules } from "../constructs/addons/alert-rules";
import { toolsClusterRules } from "../constructs/addons/tools-rules";
import { ManifestsRelease } from "../constructs/kubernetes/manifests-release";
import { ciRunnerPodMonitor, CiRunnersAddon } from "../constructs/addons/ci-runners";
import { FluxAddon } from "../constructs/addons/flux";
import { KNATIVE_SERVING_NAMESPACE, KnativeAddon, clusterScaleToZero } from "../constructs/addons/knative";
import { MetricsServerAddon } from "../constructs/addons/metrics-server";
import { LogsAddon } from "../constructs/addons/logs";
import { lokiDataSource } from "../constructs/addons/loki";
import { Alerting } from "../constructs/addons/alerting";
import { MONITORING_NAMESPACE, MonitoringAddon } from "../constructs/addons/monitoring";
import { NodeAutoscalerAddon } from "../constructs/addons/node-autoscaler";
import { PlatformStorageClass } from "../constructs/addons/storage-class";
import { WebhookRoute } from "../constructs/addons/webhook-route";
import { RegistryWebhooks } from "../constructs/addons/registry-webhooks";
import { useLocalState } from "../constructs/common/state";
import { IN_CLUSTER, platformSecretPrefix, type ClusterPlatform } from "../constructs/contract";
import { environmentDomain, exposedDomains } from "../constructs/environment/domain";
import { PREVIEWS, previewDomain } from "../constructs/environment/previews";
import { webhookHost } from "../constructs/environment/receiver";
import { CiClusterAccess, CiNamespaceAccess } from "../constructs/kubernetes/ci-access";
import { ciDeploysDatabaseSetup } from "./deployment";
import { useClusterProviders } from "../constructs/kubernetes/cluster-providers";
import { DEFAULT_CLUSTER, type ClusterRole } from "../config/clusters";
import { environmentsWhere } from "../config/stages";

export interface AddonsStackProps {
  readonly config: PlatformConfig;
  readonly platform: ClusterPlatform;
  /** Configures the state backend. @default local state beside the project */
  readonly useState?: (stack: TerraformStack, stackId: string) => void;
  /** Directory of the per-release values files. @default helm-values/ at the project root */
  readonly valuesDir?: string;
  /**
   * The cluster these add-ons run in: a `tools` cluster also runs what
   * operates the others. `config` holds this cluster's environments only.
   * @default the one cluster `main`, running every environment of the config
   */
  readonly cluster?: AddonsCluster;
  /**
   * The `cluster` label on the cluster's metrics and alerts.
   * @default - none: a platform of one cluster needs no label
   */
  readonly clusterLabel?: string;
}

/** What the add-ons know of their cluster. */
export interface AddonsCluster {
  readonly name: string;
  readonly role: ClusterRole;
  /** Names of the environments that run in it. */
  readonly environments: readonly string[];
}

/**
 * The in-cluster platform, written once for every cloud: it reads only the
 * platform contract and config, never which cloud it runs on. The cloud label
 * serves only to pick a values overlay file.
 */
export class AddonsStack extends TerraformStack {
  readonly flux: FluxAddon;
  readonly externalSecrets: ExternalSecretsAddon;
  readonly knative: KnativeAddon;
  readonly monitoring: MonitoringAddon;
  readonly nodeAutoscaler?: NodeAutoscalerAddon;
  readonly metricsServer?: MetricsServerAddon;
  readonly logs: LogsAddon;
  readonly certManager: CertManagerAddon;
  readonly externalDns: ExternalDnsAddon;
  readonly alerting: Alerting;
  /** The public route to Flux's webhook Receivers, when `gitops.receivers` asks for any. */
  readonly webhookRoute?: WebhookRoute;
  /** The Jobs that point the registry's webhooks at the Receivers, with `gitops.receivers.registry`. */
  readonly registryWebhooks?: RegistryWebhooks;
  readonly cluster: AddonsCluster;
  /** Grafana with every cluster's Prometheus and Loki: on a tools cluster only. */
  readonly centralGrafana?: CentralGrafana;
  /** The tools cluster's rules on its runners and Grafana. */
  readonly toolsAlerting?: ManifestsRelease;
  /** Self-hosted GitHub Actions runners: on a tools cluster only. */
  readonly ciRunners?: CiRunnersAddon;

  constructor(scope: Construct, id: string, props: AddonsStackProps) {
    super(scope, id);
    const { config, platform, valuesDir } = props;
    this.cluster = props.cluster ?? { name: DEFAULT_CLUSTER, role: "workload", environments: config.environments.map((environment) => environment.name) };
    (props.useState ?? useLocalState)(this, id);
    useClusterProviders(this, platform.cluster);
    const base = { cloud: platform.cloud, valuesDir };
    const runsCiRunners = this.cluster.role === "tools";
    if (runsCiRunners && (!platform.ciRunner || !config.ci)) {
      throw new Error(`${id}: a tools cluster runs the CI runners, which need config ci and the platform's runner identity (ClusterPlatform.ciRunner)`);
    }

    const storageClass = new PlatformStorageClass(this, "storage-class", platform.storageClass);

    // Cluster-wide, so here: the stack the production identity applies.
    if (platform.ci) {
      new CiClusterAccess(this, "ci-access", {
        ...platform.ci,
        deployNamespaces: [
          ...environmentsWhere(config.environments, (stage) => stage.ciIdentity === "deploy"),
          ...(config.previews ? [PREVIEWS.namespace, PREVIEWS.deliveryNamespace] : []),
        ],
        previews: config.previews !== undefined,
      });
    }

    // Capacity first: where the platform brings its own node autoscaler, the
    // other add-ons have no node to run on until its pools exist.
    const { nodeAutoscaler, resourceMetricsBuiltIn } = platform.capacity;
    if (nodeAutoscaler) this.nodeAutoscaler = new NodeAutoscalerAddon(this, "node-autoscaler", { ...base, autoscaler: nodeAutoscaler });
    if (!resourceMetricsBuiltIn) this.metricsServer = new MetricsServerAddon(this, "metrics-server", base);
    const nodes = this.nodeAutoscaler?.dependables;
    // What every add-on takes; most wait for the autoscaler's nodes.
    const onNodes = { ...base, dependsOn: nodes };

    this.flux = new FluxAddon(this, "flux", {
      ...onNodes,
      version: config.flux.version,
      imageReflectorIdentity: platform.identities.fluxImageReflector,
    });

    this.externalSecrets = new ExternalSecretsAddon(this, "external-secrets", {
      ...onNodes,
      identity: platform.identities.externalSecrets,
      provider: platform.clusterSecretStore,
      // Alertmanager's SMTP password, the previews' GitHub token in a namespace no workload runs in,
      // and on a tools cluster the runners' GitHub App: the only platform secrets read in the cluster.
      namespaces: [
        MONITORING_NAMESPACE,
        ...(config.previews ? [PREVIEWS.deliveryNamespace] : []),
        ...(runsCiRunners ? [IN_CLUSTER.ciRunners.namespace] : []),
      ],
    });

    // Public names: every exposed environment domain gets one DNS record set
    // at the gateway and a place on the one certificate the gateway serves.
    const previews = config.previews && [{ environment: PREVIEWS.namespace, domain: previewDomain(config.domain.base) }];
    const exposedNames = [...exposedDomains(config.domain, config.environments).flatMap((exposed) => exposed.names), ...(previews ?? []).map(({ domain }) => `*.${domain}`)];
    this.certManager = new CertManagerAddon(this, "cert-manager", { ...onNodes, dns: platform.dns, acmeEmail: config.domain.acmeEmail });
    this.externalDns = new ExternalDnsAddon(this, "external-dns", {
      ...onNodes,
      dns: platform.dns,
      domainFilter: config.domain.base,
      policy: config.domain.recordPolicy,
    });

    this.knative = new KnativeAddon(this, "knative", {
      ...onNodes,
      domains: [...config.environments.map((environment) => ({ environment: environment.name, domain: environmentDomain(config.domain, environment) })), ...(previews ?? [])],
      scaleToZero: clusterScaleToZero(config.environments),
      publishedNames: exposedNames,
      loadBalancerAnnotations: platform.ingressGateway.loadBalancerAnnotations,
      dedicatedNodes: config.previews !== undefined && platform.capacity.previewNodes !== undefined,
      tls: {
        certificate: routesCertificate({ namespace: KNATIVE_SERVING_NAMESPACE, dnsNames: exposedNames, issuer: config.domain.issuer }),
        dependsOn: [this.certManager.issuers.release],
      },
    });

    // A cluster without environments (a tools cluster) has no Receivers to route to.
    const receivers = config.environments.length > 0 ? config.gitops.receivers : { git: false, registry: false };
    if (receivers.git || receivers.registry) {
      this.webhookRoute = new WebhookRoute(this, "webhook-route", {
        hosts: config.environments.map((environment) => webhookHost(environmentDomain(config.domain, environment))),
        dependsOn: [this.knative.serving.release],
      });
    }

    this.monitoring = new MonitoringAddon(this, "monitoring", {
      ...base,
      storageClassName: storageClass.name,
      alertEmails: config.alerts.emails,
      secretStore: CLUSTER_SECRET_STORE,
      smtpPasswordKey: `${platformSecretPrefix(config.project)}alertmanager-smtp-password`,
      productionEnvironments: environmentsWhere(config.environments, (stage) => stage.pages),
      heartbeat: platform.alertHeartbeat,
      pager: config.alerts.pager && {
        service: config.alerts.pager.service,
        url: config.alerts.pager.url,
        secretKey: `${platformSecretPrefix(config.project)}${PAGER_SECRET_SUFFIX}`,
      },
      dependsOn: [this.externalSecrets.store.release, ...storageClass.dependables, ...(nodes ?? [])],
      dataSources: [lokiDataSource()],
      clusterLabel: props.clusterLabel,
      publishAnnotations: platform.privateMonitoring?.serviceAnnotations.prometheus,
    });

    this.logs = new LogsAddon(this, "logs", {
      ...base,
      storage: platform.logStore,
      storageClassName: storageClass.name,
      retention: logRetention(config),
      limits: config.logs.limits,
      // Preview pods' logs carry `environment: preview`, not the platform's label.
      environments: [...config.environments.map((environment) => environment.name), ...(config.previews ? [PREVIEWS.namespace] : [])],
      monitoring: this.monitoring.stack.release,
      publishAnnotations: platform.privateMonitoring?.serviceAnnotations.loki,
      dependsOn: [...storageClass.dependables, ...(nodes ?? [])],
    });

    this.flux.monitorWith(this.monitoring.stack.release);
    this.certManager.monitorWith(this.monitoring.stack.release);

    // Where the environments on shared database servers, and the previews' database role, are set up: no application deploys here.
    const restricted = Object.fromEntries(["enforce", "warn", "audit"].map((mode) => [`pod-security.kubernetes.io/${mode}`, "restricted"]));
    if (config.environments.some((environment) => environment.database.server !== undefined) || config.previews) {
      const setupNamespace = new NamespaceV1(this, "database-setup-namespace", {
        metadata: { name: IN_CLUSTER.databaseSetup.namespace, labels: { ...restricted, "app.kubernetes.io/managed-by": "cdktf" } },
      });
      // The environment stacks the deploy identity applies put their setup Jobs here (ciDeploysDatabaseSetup).
      if (platform.ci && ciDeploysDatabaseSetup(config)) {
        new CiNamespaceAccess(this, "database-setup-ci-access", { namespace: IN_CLUSTER.databaseSetup.namespace, deployer: platform.ci.deploy, dependsOn: [setupNamespace] });
      }
    }
    // The Jobs that point the registry's webhooks at the Receivers, with their cloud identities, in a namespace of their own.
    const webhookAccess = platform.registryWebhooks;
    if (receivers.registry && webhookAccess) {
      const namespace = new NamespaceV1(this, "registry-webhooks-namespace", {
        metadata: { name: IN_CLUSTER.registryWebhooks.namespace, labels: { ...restricted, "app.kubernetes.io/managed-by": "cdktf" } },
      });
      this.registryWebhooks = new RegistryWebhooks(this, "registry-webhooks", {
        environments: config.environments.map((environment) => ({
          name: environment.name,
          host: webhookHost(environmentDomain(config.domain, environment)),
          access: webhookAccess[environment.name],
        })),
        fluxVersion: config.flux.version,
        dependsOn: [namespace, this.flux.instance.release],
      });
    }

    this.alerting = new Alerting(this, "alerting", {
      namespace: MONITORING_NAMESPACE,
      rules: {
        environments: config.environments,
        node: config.alerts.node,
        webhooks: this.webhookRoute && { proxyNamespace: WebhookRoute.NAMESPACE, jobNamespace: this.registryWebhooks && IN_CLUSTER.registryWebhooks.namespace },
      },
      dependsOn: [this.monitoring.stack.release],
    });

    if (this.cluster.role === "tools") {
      const otherClusters = config.clusters.map((cluster) => cluster.name).filter((name) => name !== this.cluster.name);
      this.centralGrafana = new CentralGrafana(this, "central-grafana", {
        ...base,
        cluster: this.cluster.name,
        otherClusters,
        baseDomain: config.domain.base,
        storageClassName: storageClass.name,
        // The generator's and the ServiceMonitor's CRDs come with these.
        dependsOn: [this.monitoring.stack.release, this.externalSecrets.release],
      });
      // The tools cluster's alerts on its own services, beside every cluster's.
      this.toolsAlerting = new ManifestsRelease(this, "tools-alerting", {
        name: "tools-alerting",
        namespace: MONITORING_NAMESPACE,
        manifests: [
          ...prometheusRules([toolsClusterRules()], MONITORING_NAMESPACE),
          clusterMonitoringScrape(otherClusters, config.domain.base, MONITORING_NAMESPACE),
          ciRunnerPodMonitor(MONITORING_NAMESPACE),
        ],
        dependsOn: [this.monitoring.stack.release],
      });
    }

    if (runsCiRunners) {
      this.ciRunners = new CiRunnersAddon(this, "ci-runners", {
        ...onNodes,
        project: config.project,
        cluster: this.cluster.name,
        repository: config.ci!.repository,
        identity: platform.ciRunner!,
        secretStore: CLUSTER_SECRET_STORE,
        secretStoreRelease: this.externalSecrets.store.release,
        deniedRanges: platform.peeredRanges,
      });
    }
  }
}
