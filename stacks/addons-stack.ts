import type { Release } from "@cdktf/provider-helm/lib/release";
import { TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { PlatformConfig } from "../config";
import { ExternalSecretsAddon, CLUSTER_SECRET_STORE } from "../constructs/addons/external-secrets";
import { FluxAddon } from "../constructs/addons/flux";
import { KnativeAddon, clusterScaleToZero } from "../constructs/addons/knative";
import { Alerting } from "../constructs/addons/alerting";
import { MONITORING_NAMESPACE, MonitoringAddon } from "../constructs/addons/monitoring";
import { PlatformStorageClass } from "../constructs/addons/storage-class";
import { useLocalState } from "../constructs/common/state";
import { platformSecretPrefix, type ClusterPlatform } from "../constructs/contract";
import { environmentDomain } from "../constructs/environment/domain";
import { useClusterProviders } from "../constructs/kubernetes/cluster-providers";

export interface AddonsStackProps {
  readonly config: PlatformConfig;
  readonly platform: ClusterPlatform;
  /** Configures the state backend. @default local state beside the project */
  readonly useState?: (stack: TerraformStack, stackId: string) => void;
  /** Directory of the per-release values files. @default helm-values/ at the project root */
  readonly valuesDir?: string;
}

/** Every release of the stack, by what it installs. */
export interface AddonReleases {
  readonly flux: Release;
  readonly externalSecrets: Release;
  readonly clusterSecretStore: Release;
  readonly knativeOperator: Release;
  readonly knativeServing: Release;
  readonly monitoringSecrets: Release;
  readonly kubePrometheusStack: Release;
  readonly fluxMonitoring: Release;
  readonly alerting: Release;
}

/**
 * The in-cluster platform, written once for every cloud: it reads only the
 * platform contract and config, never which cloud it runs on. The cloud label
 * serves only to pick a values overlay file.
 */
export class AddonsStack extends TerraformStack {
  readonly releases: AddonReleases;
  readonly flux: FluxAddon;
  readonly externalSecrets: ExternalSecretsAddon;
  readonly knative: KnativeAddon;
  readonly monitoring: MonitoringAddon;
  readonly alerting: Alerting;

  constructor(scope: Construct, id: string, props: AddonsStackProps) {
    super(scope, id);
    const { config, platform, valuesDir } = props;
    (props.useState ?? useLocalState)(this, id);
    useClusterProviders(this, platform.cluster);
    const cloud = platform.cloud;

    const storageClass = new PlatformStorageClass(this, "storage-class", platform.storageClass);

    this.flux = new FluxAddon(this, "flux", { cloud, valuesDir, imageReflectorIdentity: platform.identities.fluxImageReflector });

    this.externalSecrets = new ExternalSecretsAddon(this, "external-secrets", {
      cloud,
      valuesDir,
      identity: platform.identities.externalSecrets,
      provider: platform.clusterSecretStore,
      // Alertmanager's SMTP password is the only platform secret read in the cluster.
      namespaces: [MONITORING_NAMESPACE],
    });

    this.knative = new KnativeAddon(this, "knative", {
      cloud,
      valuesDir,
      domains: config.environments.map((environment) => ({ environment: environment.name, domain: environmentDomain(config.domain, environment) })),
      scaleToZero: clusterScaleToZero(config.environments),
    });

    this.monitoring = new MonitoringAddon(this, "monitoring", {
      cloud,
      valuesDir,
      storageClassName: storageClass.name,
      alertEmails: config.alerts.emails,
      secretStore: CLUSTER_SECRET_STORE,
      smtpPasswordKey: `${platformSecretPrefix(config.project)}alertmanager-smtp-password`,
      productionEnvironments: config.environments.filter((environment) => environment.stage === "production").map((environment) => environment.name),
      heartbeat: platform.alertHeartbeat,
      dependsOn: [this.externalSecrets.store.release, ...storageClass.dependables],
    });

    const fluxMonitoring = this.flux.monitorWith(this.monitoring.stack.release);

    this.alerting = new Alerting(this, "alerting", {
      namespace: MONITORING_NAMESPACE,
      rules: { environments: config.environments, node: config.alerts.node },
      dependsOn: [this.monitoring.stack.release],
    });

    this.releases = {
      flux: this.flux.release,
      externalSecrets: this.externalSecrets.release,
      clusterSecretStore: this.externalSecrets.store.release,
      knativeOperator: this.knative.operator.release,
      knativeServing: this.knative.serving.release,
      monitoringSecrets: this.monitoring.secrets.release,
      kubePrometheusStack: this.monitoring.stack.release,
      fluxMonitoring: fluxMonitoring.release,
      alerting: this.alerting.manifests.release,
    };
  }
}
