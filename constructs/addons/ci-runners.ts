import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { IN_CLUSTER, platformSecretPrefix, type WorkloadIdentity } from "../contract";
import { ManifestsRelease, type KubernetesObject } from "../kubernetes/manifests-release";
import { HelmAddon, type AddonOptions } from "./helm-addon";

/** The controller's release; its service account is named after it. */
export const CI_RUNNER_CONTROLLER_RELEASE = "arc";
export const CI_RUNNER_CONTROLLER_SERVICE_ACCOUNT = "arc-controller";
/** The Secret the scale set reads the GitHub App from, written by External Secrets. */
export const GITHUB_APP_SECRET = "github-app";

/**
 * The GitHub App's three values in the cloud's secret store, each a plain
 * secret under the platform prefix, by the key the scale set reads it as
 * (the chart's `githubConfigSecret` for a GitHub App).
 */
export const githubAppSecretKeys = (project: string): Record<string, string> => ({
  github_app_id: `${platformSecretPrefix(project)}github-app-id`,
  github_app_installation_id: `${platformSecretPrefix(project)}github-app-installation-id`,
  github_app_private_key: `${platformSecretPrefix(project)}github-app-private-key`,
});

/** The scale set's name, which the workflows put in `runs-on:`; also its Helm release. */
export const runnerScaleSetName = (project: string, cluster: string): string => `${project}-${cluster}`;

export interface CiRunnersProps extends AddonOptions {
  readonly cloud: string;
  readonly project: string;
  readonly cluster: string;
  /** The repository the runners serve, as owner/name (`ci.repository`). */
  readonly repository: string;
  /** The runner pods' cloud identity (`ClusterPlatform.ciRunner`). */
  readonly identity: WorkloadIdentity;
  /** The ClusterSecretStore the GitHub App's values come through. */
  readonly secretStore: string;
  /** The store's release: the ExternalSecret needs its CRDs and the store. */
  readonly secretStoreRelease: ITerraformDependable;
  /**
   * Address ranges the runner pods may not reach: the other clusters'
   * (`ClusterPlatform.peeredRanges`), whose Prometheus and Loki admit the
   * tools cluster's range over the peering without authentication.
   * @default - none
   */
  readonly deniedRanges?: readonly string[];
}

/** Where the controller and the listeners serve their metrics. */
export const CI_RUNNER_METRICS_PORT = 8080;
export const CI_RUNNER_METRICS_PATH = "/metrics";

/**
 * Scrapes the controller and the scale sets' listeners, which run in the
 * controller's namespace and name their metrics port `metrics`: the
 * listeners' gauges say how many jobs wait and how many runners there are.
 */
export function ciRunnerPodMonitor(namespace: string): KubernetesObject {
  const controllerNamespace = IN_CLUSTER.ciRunners.controllerNamespace;
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PodMonitor",
    metadata: { name: "ci-runners", namespace },
    spec: {
      namespaceSelector: { matchNames: [controllerNamespace] },
      // Every pod there: those without a `metrics` port are no target.
      selector: {},
      podMetricsEndpoints: [{ port: "metrics", path: CI_RUNNER_METRICS_PATH, interval: "30s" }],
    },
  };
}

/**
 * The runner pods reach anything but the other clusters' ranges: a job (the
 * code of a pull request, too) cannot read another cluster's metrics and
 * logs over the peering the central Grafana uses. Their public API endpoints
 * stay reachable, through the tools cluster's egress.
 */
export function runnerEgressPolicy(namespace: string, denied: readonly string[]): KubernetesObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "runners-egress", namespace },
    spec: {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [...denied] } }] }],
    },
  };
}

/**
 * actions-runner-controller's scale sets: the controller, and one runner
 * scale set registered with the repository through a GitHub App whose
 * values come from the cloud's secret store (never from Terraform). The
 * runner pods run as `IN_CLUSTER.ciRunners.serviceAccount`, which carries
 * the platform's runner identity.
 */
export class CiRunnersAddon extends Construct {
  /** The runners' namespace. */
  readonly namespace: NamespaceV1;
  readonly controller: HelmAddon;
  /** The runners' service account and the GitHub App's ExternalSecret. */
  readonly prerequisites: ManifestsRelease;
  readonly scaleSet: HelmAddon;
  readonly scaleSetName: string;

  constructor(scope: Construct, id: string, props: CiRunnersProps) {
    super(scope, id);
    const { namespace, controllerNamespace, serviceAccount } = IN_CLUSTER.ciRunners;
    // First: the controller's chart puts its Roles for a single watched namespace there.
    // Baseline, not restricted: the chart's runner pod sets no seccomp profile or capabilities.
    const podSecurity = Object.fromEntries(["enforce", "warn", "audit"].map((mode) => [`pod-security.kubernetes.io/${mode}`, "baseline"]));
    this.namespace = new NamespaceV1(this, "namespace", {
      metadata: { name: namespace, labels: { ...podSecurity, "app.kubernetes.io/managed-by": "cdktf" } },
    });
    this.controller = new HelmAddon(this, "controller", {
      cloud: props.cloud,
      valuesDir: props.valuesDir,
      dependsOn: [...(props.dependsOn ?? []), this.namespace],
      chart: "gha-runner-scale-set-controller",
      releaseName: CI_RUNNER_CONTROLLER_RELEASE,
      namespace: controllerNamespace,
      values: {
        serviceAccount: { create: true, name: CI_RUNNER_CONTROLLER_SERVICE_ACCOUNT },
        // Only the runners' namespace: the controller's role reaches no other.
        flags: { watchSingleNamespace: namespace, logLevel: "info" },
        // The controller's and every listener's metrics, on a container port named `metrics` (ciRunnerPodMonitor).
        metrics: { controllerManagerAddr: `:${CI_RUNNER_METRICS_PORT}`, listenerAddr: `:${CI_RUNNER_METRICS_PORT}`, listenerEndpoint: CI_RUNNER_METRICS_PATH },
      },
    });
    this.prerequisites = new ManifestsRelease(this, "prerequisites", {
      name: "ci-runner-prerequisites",
      namespace,
      manifests: [
        {
          apiVersion: "v1",
          kind: "ServiceAccount",
          metadata: { name: serviceAccount, namespace, annotations: props.identity.serviceAccountAnnotations },
          // Runner jobs talk to clusters through their own kubeconfig, never as this account.
          automountServiceAccountToken: false,
        },
        ...(props.deniedRanges?.length ? [runnerEgressPolicy(namespace, props.deniedRanges)] : []),
        {
          apiVersion: "external-secrets.io/v1",
          kind: "ExternalSecret",
          metadata: { name: GITHUB_APP_SECRET, namespace },
          spec: {
            refreshInterval: "1h",
            secretStoreRef: { kind: "ClusterSecretStore", name: props.secretStore },
            target: { name: GITHUB_APP_SECRET },
            data: Object.entries(githubAppSecretKeys(props.project)).map(([secretKey, key]) => ({ secretKey, remoteRef: { key } })),
          },
        },
      ],
      dependsOn: [props.secretStoreRelease, this.namespace, ...(props.dependsOn ?? [])],
    });
    this.scaleSetName = runnerScaleSetName(props.project, props.cluster);
    this.scaleSet = new HelmAddon(this, "scale-set", {
      cloud: props.cloud,
      valuesDir: props.valuesDir,
      dependsOn: [this.controller.release, this.prerequisites.release],
      chart: "gha-runner-scale-set",
      releaseName: this.scaleSetName,
      namespace,
      createNamespace: false,
      values: {
        githubConfigUrl: `https://github.com/${props.repository}`,
        githubConfigSecret: GITHUB_APP_SECRET,
        runnerScaleSetName: this.scaleSetName,
        minRunners: 0,
        maxRunners: 4,
        // Explicit: a controller watching one namespace is not discovered.
        controllerServiceAccount: { namespace: controllerNamespace, name: CI_RUNNER_CONTROLLER_SERVICE_ACCOUNT },
        template: {
          metadata: { labels: props.identity.podLabels },
          spec: { serviceAccountName: serviceAccount },
        },
      },
    });
  }
}
