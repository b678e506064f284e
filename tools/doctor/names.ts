import { IN_CLUSTER } from "../../constructs/contract";

/**
 * The in-cluster names the doctor looks for. The constructs that create
 * them load the provider packages, which the doctor does not; a test holds
 * each name here equal to the construct's own (__tests__/doctor-names.test.ts).
 */
export const NAMES = {
  flux: {
    namespace: IN_CLUSTER.flux.namespace,
    /** The Flux Operator's instance, when Flux is installed by it. */
    instance: "flux",
    /** The `app` label and Deployment name of each controller of the flux2 chart. */
    controllers: ["source-controller", "kustomize-controller", "helm-controller", "notification-controller", "image-reflector-controller", "image-automation-controller"],
  },
  /** Each environment's GitRepository and Kustomization (constructs/environment/gitops-delivery.ts). */
  gitops: { source: "gitops", sync: "apps" },
  /** The routes' certificate Kourier serves, and the gateway Service external-dns publishes. */
  routes: { namespace: "knative-serving", certificate: "routes", gateway: "kourier" },
  monitoring: {
    namespace: "monitoring",
    prometheus: { service: "kube-prometheus-stack-prometheus", port: 9090 },
    alertmanager: { service: "kube-prometheus-stack-alertmanager", port: 9093 },
    loki: { service: "loki", port: 3100 },
    /** PodMonitors of Knative revisions: no target while an environment is scaled to zero. */
    scaleToZeroMonitors: ["knative-queue-proxy"],
  },
  secrets: { clusterStore: "platform", databaseStore: "database", databaseSecret: "database" },
} as const;
