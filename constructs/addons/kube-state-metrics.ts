import { RESOURCE_METRIC } from "./alert-rules";

/** Custom resources whose Ready condition the platform alerts on, by group, version and plural. */
export const WATCHED_RESOURCES = [
  { group: "source.toolkit.fluxcd.io", version: "v1", kind: "GitRepository", plural: "gitrepositories" },
  { group: "kustomize.toolkit.fluxcd.io", version: "v1", kind: "Kustomization", plural: "kustomizations" },
  { group: "helm.toolkit.fluxcd.io", version: "v2", kind: "HelmRelease", plural: "helmreleases" },
  { group: "image.toolkit.fluxcd.io", version: "v1", kind: "ImageRepository", plural: "imagerepositories" },
  { group: "image.toolkit.fluxcd.io", version: "v1", kind: "ImagePolicy", plural: "imagepolicies" },
  { group: "image.toolkit.fluxcd.io", version: "v1", kind: "ImageUpdateAutomation", plural: "imageupdateautomations" },
  // A Receiver not Ready (its token secret missing) drops every webhook: changes wait for the next poll.
  { group: "notification.toolkit.fluxcd.io", version: "v1", kind: "Receiver", plural: "receivers" },
  { group: "fluxcd.controlplane.io", version: "v1", kind: "FluxInstance", plural: "fluxinstances" },
  { group: "external-secrets.io", version: "v1", kind: "ExternalSecret", plural: "externalsecrets" },
  { group: "serving.knative.dev", version: "v1", kind: "Revision", plural: "revisions" },
] as const;

const [prefix, ...rest] = RESOURCE_METRIC.split("_");

/**
 * kube-state-metrics values that publish `platform_resource_info` with a
 * `ready` label (the status of the object's Ready condition) for every
 * watched kind: one metric for Flux, External Secrets and Knative alike,
 * read from the API server rather than from each controller's own metrics.
 */
export function platformResourceState(): Record<string, unknown> {
  return {
    rbac: {
      extraRules: [...new Set(WATCHED_RESOURCES.map((r) => r.group))].map((group) => ({
        apiGroups: [group],
        resources: WATCHED_RESOURCES.filter((r) => r.group === group).map((r) => r.plural),
        verbs: ["list", "watch"],
      })),
    },
    customResourceState: {
      enabled: true,
      config: {
        kind: "CustomResourceStateMetrics",
        spec: {
          resources: WATCHED_RESOURCES.map((r) => ({
            groupVersionKind: { group: r.group, version: r.version, kind: r.kind },
            metricNamePrefix: prefix,
            metrics: [
              {
                name: rest.join("_"),
                help: "The object's Ready condition",
                each: { type: "Info", info: { labelsFromPath: { name: ["metadata", "name"] } } },
                labelsFromPath: { exported_namespace: ["metadata", "namespace"], ready: ["status", "conditions", "[type=Ready]", "status"] },
              },
            ],
          })),
        },
      },
    },
  };
}
