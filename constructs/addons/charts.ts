/**
 * Every chart the add-ons install, pinned to an exact version in this one
 * table. Upgrading a chart is a one-line change here plus a review of its
 * values file against the new chart's defaults (docs/addons.md, "Upgrading charts and CRDs").
 */
export const CHARTS = {
  // Installs Flux through a FluxInstance; the Flux releases it can install
  // are listed in config/flux.ts. AGPL-3.0 (docs/dependencies.md).
  "flux-operator": {
    repository: "oci://ghcr.io/controlplaneio-fluxcd/charts",
    chart: "flux-operator",
    version: "0.49.0",
  },
  "knative-operator": {
    repository: "https://knative.github.io/operator",
    chart: "knative-operator",
    // The Knative project tags its charts with a leading `v`.
    version: "v1.23.0",
  },
  "kube-prometheus-stack": {
    repository: "https://prometheus-community.github.io/helm-charts",
    chart: "kube-prometheus-stack",
    version: "88.5.3",
  },
  "external-secrets": {
    repository: "https://charts.external-secrets.io",
    chart: "external-secrets",
    version: "2.9.0",
  },
  // Node capacity: installed only where the platform's contract asks for them.
  karpenter: {
    repository: "oci://public.ecr.aws/karpenter",
    chart: "karpenter",
    version: "1.14.1",
  },
  "karpenter-crd": {
    repository: "oci://public.ecr.aws/karpenter",
    chart: "karpenter-crd",
    version: "1.14.1",
  },
  "metrics-server": {
    repository: "https://kubernetes-sigs.github.io/metrics-server/",
    chart: "metrics-server",
    version: "3.13.1",
  },
  loki: {
    repository: "https://grafana.github.io/helm-charts",
    chart: "loki",
    version: "7.3.0",
  },
  alloy: {
    repository: "https://grafana.github.io/helm-charts",
    chart: "alloy",
    version: "1.11.1",
  },
  "external-dns": {
    repository: "https://kubernetes-sigs.github.io/external-dns/",
    chart: "external-dns",
    version: "1.21.1",
  },
  "cert-manager": {
    repository: "https://charts.jetstack.io",
    chart: "cert-manager",
    version: "v1.21.1",
  },
  // Self-hosted GitHub Actions runners, on a tools cluster only: the
  // controller and one runner scale set, released together upstream.
  "gha-runner-scale-set-controller": {
    repository: "oci://ghcr.io/actions/actions-runner-controller-charts",
    chart: "gha-runner-scale-set-controller",
    version: "0.14.2",
  },
  "gha-runner-scale-set": {
    repository: "oci://ghcr.io/actions/actions-runner-controller-charts",
    chart: "gha-runner-scale-set",
    version: "0.14.2",
  },
  // The tools cluster's central Grafana. The chart moved from grafana/helm-charts
  // to grafana-community/helm-charts; this is the version kube-prometheus-stack
  // pins for the per-cluster Grafana, so both run the same Grafana.
  grafana: {
    repository: "https://grafana-community.github.io/helm-charts",
    chart: "grafana",
    version: "12.11.1",
  },
} as const satisfies Record<string, ChartPin>;

export interface ChartPin {
  readonly repository: string;
  readonly chart: string;
  /** An exact version, never a range. */
  readonly version: string;
}

export type ChartName = keyof typeof CHARTS;
