import type { ITerraformDependable } from "cdktf";
import type { Construct } from "constructs";
import { IN_CLUSTER, type WorkloadIdentity } from "../contract";
import { ManifestsRelease } from "../kubernetes/manifests-release";
import { HelmAddon, type AddonOptions } from "./helm-addon";

export interface FluxProps extends AddonOptions {
  /** Label of the cloud, selecting the values overlay. */
  readonly cloud: string;
  /** Registry read access of the image-reflector-controller. */
  readonly imageReflectorIdentity: WorkloadIdentity;
}

/** The annotation that keeps a resource when Helm uninstalls its release. */
export const HELM_KEEP = { "helm.sh/resource-policy": "keep" } as const;

/** The `app` label of each controller's pods. */
export const FLUX_CONTROLLERS = [
  "source-controller",
  "kustomize-controller",
  "helm-controller",
  "notification-controller",
  "image-reflector-controller",
  "image-automation-controller",
] as const;

/**
 * Flux with all six controllers. Its CRDs are kept on uninstall: removing
 * the release must never cascade into deleting every GitRepository and
 * Kustomization, and with them every workload they applied.
 */
export class FluxAddon extends HelmAddon {
  constructor(scope: Construct, id: string, props: FluxProps) {
    super(scope, id, {
      cloud: props.cloud,
      valuesDir: props.valuesDir,
      dependsOn: props.dependsOn,
      chart: "flux2",
      releaseName: "flux",
      namespace: IN_CLUSTER.flux.namespace,
      values: {
        installCRDs: true,
        crds: { annotations: HELM_KEEP },
        sourceController: { create: true },
        kustomizeController: { create: true },
        helmController: { create: true },
        notificationController: { create: true },
        imageReflectionController: {
          create: true,
          // The chart names this service account after the controller; the
          // platform grants registry access to exactly that name.
          serviceAccount: { create: true, annotations: props.imageReflectorIdentity.serviceAccountAnnotations },
          labels: props.imageReflectorIdentity.podLabels,
        },
        imageAutomationController: { create: true },
      },
    });
  }

  /**
   * Lets Prometheus scrape the controllers. A PodMonitor of its own rather
   * than the chart's, which would make Flux wait for the monitoring stack
   * that provides the PodMonitor CRD.
   */
  monitorWith(prometheus: ITerraformDependable): ManifestsRelease {
    return new ManifestsRelease(this, "monitoring", {
      name: "flux-monitoring",
      namespace: IN_CLUSTER.flux.namespace,
      manifests: [
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: "PodMonitor",
          metadata: { name: "flux-controllers", namespace: IN_CLUSTER.flux.namespace },
          spec: {
            namespaceSelector: { matchNames: [IN_CLUSTER.flux.namespace] },
            selector: { matchExpressions: [{ key: "app", operator: "In", values: [...FLUX_CONTROLLERS] }] },
            podMetricsEndpoints: [{ port: "http-prom" }],
          },
        },
      ],
      dependsOn: [this.release, prometheus],
    });
  }
}
