import type { ITerraformDependable } from "cdktf";
import type { Construct } from "constructs";
import { stringify } from "yaml";
import { IN_CLUSTER, type WorkloadIdentity } from "../contract";
import { ManifestsRelease, type KubernetesObject } from "../kubernetes/manifests-release";
import { CHARTS } from "./charts";
import { addonBase, HelmAddon, type AddonOptions } from "./helm-addon";

export interface FluxProps extends AddonOptions {
  /** Registry read access of the image-reflector-controller. */
  readonly imageReflectorIdentity: WorkloadIdentity;
  /** The Flux release the operator installs, exact (config `flux.version`). */
  readonly version: string;
}

/** The annotation that keeps a resource when Helm uninstalls its release. */
export const HELM_KEEP = { "helm.sh/resource-policy": "keep" } as const;

/**
 * The annotation that keeps an object the Flux Operator applied when its
 * FluxInstance is deleted or stops listing it: without it, deleting the
 * instance deletes the Flux CRDs and with them every Flux object.
 */
export const OPERATOR_KEEP = { "fluxcd.controlplane.io/prune": "disabled" } as const;

/** The `app` label of each controller's pods, also the name of its Deployment and service account. */
export const FLUX_CONTROLLERS = [
  "source-controller",
  "kustomize-controller",
  "helm-controller",
  "notification-controller",
  "image-reflector-controller",
  "image-automation-controller",
] as const;

export type FluxController = (typeof FLUX_CONTROLLERS)[number];

/**
 * Names in the Flux namespace that other features build on: the operator's
 * FluxInstance, the operator itself, and the notification-controller's
 * Services (webhook receivers and the events address).
 */
export const FLUX = {
  namespace: IN_CLUSTER.flux.namespace,
  /** Helm release of the operator: the community chart's release name, so an installed platform upgrades it in place. */
  release: "flux",
  instance: "flux",
  operator: "flux-operator",
  /** Where a Receiver's webhook URL path (`/hook/<digest>`) is served. */
  webhookReceiver: { service: "webhook-receiver", port: 80 },
  notification: { service: "notification-controller", port: 80 },
} as const;

interface Resources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly memory: string };
}

/**
 * Each controller's requests and memory limit, replacing the upstream
 * defaults entirely: no CPU limit (throttling only slows reconciliation), and
 * a memory limit each controller also reads as GOMEMLIMIT.
 */
export const FLUX_CONTROLLER_RESOURCES: Record<FluxController, Resources> = {
  "source-controller": { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "1Gi" } },
  "kustomize-controller": { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "1Gi" } },
  "helm-controller": { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "1Gi" } },
  "notification-controller": { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
  "image-reflector-controller": { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "512Mi" } },
  "image-automation-controller": { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "512Mi" } },
};

/** One entry of a FluxInstance's `spec.kustomize.patches`. */
export interface FluxInstancePatch {
  readonly target: { readonly kind: string; readonly name?: string };
  /** A strategic merge patch (an object) or a JSON patch (a list of operations), as YAML. */
  readonly patch: string;
}

const patch = (target: FluxInstancePatch["target"], body: unknown): FluxInstancePatch => ({ target, patch: stringify(body, { lineWidth: 0 }) });

/**
 * The platform's changes to the Flux the operator builds: every CRD kept when
 * the instance goes, each controller's resources, and the image reflector's
 * cloud identity: service account annotations and pod labels (Azure Workload
 * Identity); AWS Pod Identity needs neither, it matches the account by name.
 */
export function fluxInstancePatches(identity: WorkloadIdentity): FluxInstancePatch[] {
  const reflector = IN_CLUSTER.flux.imageReflectorServiceAccount;
  return [
    patch({ kind: "CustomResourceDefinition" }, { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name: "all", annotations: OPERATOR_KEEP } }),
    ...FLUX_CONTROLLERS.map((controller) =>
      patch({ kind: "Deployment", name: controller }, [{ op: "replace", path: "/spec/template/spec/containers/0/resources", value: FLUX_CONTROLLER_RESOURCES[controller] }]),
    ),
    // Empty maps where the cloud needs none: the patches merge nothing.
    patch({ kind: "ServiceAccount", name: reflector }, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: reflector, annotations: identity.serviceAccountAnnotations } }),
    patch(
      { kind: "Deployment", name: "image-reflector-controller" },
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "image-reflector-controller" }, spec: { template: { metadata: { labels: identity.podLabels } } } },
    ),
  ];
}

/**
 * The one FluxInstance: the six controllers the platform uses, the
 * multi-tenancy lockdown (no cross-namespace references; a Kustomization or
 * HelmRelease without spec.serviceAccountName runs as its namespace's
 * `default` account, which holds no permissions) and Flux's network policies.
 * No `sync`: each environment stack writes its own GitRepository and
 * Kustomization.
 */
export function fluxInstance(version: string, identity: WorkloadIdentity): KubernetesObject {
  return {
    apiVersion: "fluxcd.controlplane.io/v1",
    kind: "FluxInstance",
    metadata: { name: FLUX.instance, namespace: FLUX.namespace },
    spec: {
      // No `artifact`: the operator builds Flux from the manifests in its own image, so what installs is fixed by the two pins.
      distribution: { version, registry: "ghcr.io/fluxcd" },
      components: [...FLUX_CONTROLLERS],
      cluster: { type: "kubernetes", multitenant: true, tenantDefaultServiceAccount: "default", networkPolicy: true, domain: "cluster.local" },
      kustomize: { patches: fluxInstancePatches(identity) },
    },
  };
}

const READY_CHECK = "flux-instance-ready";

/**
 * A Helm hook that holds the release until the FluxInstance is Ready, as the
 * upstream flux-instance chart's health check does: the apply fails (and the
 * release rolls back to the previous instance) when Flux does not come up,
 * and the environment stacks never apply before Flux's CRDs are served. Its
 * account may only read FluxInstances of the Flux namespace.
 */
export function fluxInstanceReadyCheck(timeoutMinutes: number): KubernetesObject[] {
  // A fresh object each time: a shared one would be written as a YAML alias.
  const metadata = () => ({ name: READY_CHECK, namespace: FLUX.namespace });
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: metadata() },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: metadata(),
      rules: [{ apiGroups: ["fluxcd.controlplane.io"], resources: ["fluxinstances"], resourceNames: [FLUX.instance], verbs: ["get"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: metadata(),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: READY_CHECK },
      subjects: [{ kind: "ServiceAccount", name: READY_CHECK, namespace: FLUX.namespace }],
    },
    {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: {
        ...metadata(),
        annotations: { "helm.sh/hook": "post-install,post-upgrade", "helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded" },
      },
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: "Never",
            serviceAccountName: READY_CHECK,
            securityContext: { runAsNonRoot: true, fsGroup: 1337, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "wait",
                // The operator's CLI, released with the operator under the same tag.
                image: `ghcr.io/controlplaneio-fluxcd/flux-operator-cli:v${CHARTS["flux-operator"].version}`,
                args: ["wait", "instance", FLUX.instance, `--namespace=${FLUX.namespace}`, `--timeout=${timeoutMinutes}m`],
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
              },
            ],
          },
        },
      },
    },
  ];
}

/** Minutes the ready check waits for Flux; the instance release waits a little longer. */
const READY_MINUTES = 8;

/**
 * Flux, installed and upgraded by the Flux Operator: the operator's chart,
 * then one FluxInstance it reconciles. The release keeps the name and
 * Terraform address of the community flux2 chart's release, so a platform
 * that has one upgrades it in place: Helm swaps the chart, keeps the Flux
 * CRDs (annotated keep), and rolls back if the operator does not start. The
 * operator then takes over the CRDs and installs the controllers.
 */
export class FluxAddon extends HelmAddon {
  /** The FluxInstance and its ready check: done when Flux runs and its CRDs are served. */
  readonly instance: ManifestsRelease;

  constructor(scope: Construct, id: string, props: FluxProps) {
    super(scope, id, {
      ...addonBase(props),
      dependsOn: props.dependsOn,
      chart: "flux-operator",
      releaseName: FLUX.release,
      namespace: FLUX.namespace,
      values: {
        fullnameOverride: FLUX.operator,
        // The operator's own CRDs (FluxInstance, ResourceSet, ...) are kept on uninstall by the chart.
        installCRDs: true,
        // A ResourceSet without spec.serviceAccountName applies as its namespace's `default` account, as Flux does.
        multitenancy: { enabled: true, defaultServiceAccount: "default" },
        // The status web UI is not exposed; enable it in helm-values/flux.yaml to port-forward to it.
        web: { enabled: false },
      },
    });
    this.instance = new ManifestsRelease(this, "instance", {
      name: "flux-instance",
      namespace: FLUX.namespace,
      manifests: [fluxInstance(props.version, props.imageReflectorIdentity), ...fluxInstanceReadyCheck(READY_MINUTES)],
      dependsOn: [this.release],
      timeoutSeconds: (READY_MINUTES + 2) * 60,
    });
  }

  /**
   * Lets Prometheus scrape the controllers and the operator. PodMonitors of
   * its own rather than the chart's ServiceMonitor, which would make Flux wait
   * for the monitoring stack that provides the CRD.
   */
  monitorWith(prometheus: ITerraformDependable): ManifestsRelease {
    const monitor = (name: string, selector: Record<string, unknown>, port: string): KubernetesObject => ({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PodMonitor",
      metadata: { name, namespace: FLUX.namespace },
      spec: { namespaceSelector: { matchNames: [FLUX.namespace] }, selector, podMetricsEndpoints: [{ port }] },
    });
    return new ManifestsRelease(this, "monitoring", {
      name: "flux-monitoring",
      namespace: FLUX.namespace,
      manifests: [
        monitor("flux-controllers", { matchExpressions: [{ key: "app", operator: "In", values: [...FLUX_CONTROLLERS] }] }, "http-prom"),
        monitor(FLUX.operator, { matchLabels: { "app.kubernetes.io/name": FLUX.operator } }, "http-metrics"),
      ],
      dependsOn: [this.release, prometheus],
    });
  }
}
