import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { stringify } from "yaml";
import type { EnvironmentConfig } from "../../config";
import { ManifestsRelease, type KubernetesObject } from "../kubernetes/manifests-release";
import { HelmAddon, type AddonOptions } from "./helm-addon";
import { DEFAULT_VALUES_DIR, releaseValues } from "./values";

export const KNATIVE_SERVING_NAMESPACE = "knative-serving";
export const KOURIER_INGRESS_CLASS = "kourier.ingress.networking.knative.dev";
/** The Knative feature flag the migration pattern needs, for its wait-for-migration init container. */
export const MIGRATION_FEATURE_FLAG = "kubernetes.podspec-init-containers";
/** The gateway's LoadBalancer service, which the operator creates in the serving namespace. */
export const KOURIER_SERVICE = "kourier";
/** The annotation external-dns publishes a service's load balancer under. */
export const EXTERNAL_DNS_HOSTNAME = "external-dns.alpha.kubernetes.io/hostname";

/** Cluster-wide scale-to-zero timings of the Knative autoscaler. */
export interface ScaleToZeroDefaults {
  readonly gracePeriodSeconds: number;
  readonly retentionPeriodSeconds: number;
}

/**
 * The autoscaler's timings are one ConfigMap for the whole cluster, while
 * config sets them per environment. Only non-production environments scale
 * to zero (production keeps a minimum of one), so their settings decide:
 * the longest grace period, because it has no per-revision override and a
 * short one can drop requests while the activator takes over; the shortest
 * retention, because environments that want longer set the per-revision
 * annotation `autoscaling.knative.dev/scale-to-zero-pod-retention-period`.
 */
export function clusterScaleToZero(environments: readonly Pick<EnvironmentConfig, "stage" | "scaleToZero">[]): ScaleToZeroDefaults {
  const nonProduction = environments.filter((environment) => environment.stage !== "production");
  const deciding = (nonProduction.length > 0 ? nonProduction : environments).map((environment) => environment.scaleToZero);
  return {
    gracePeriodSeconds: Math.max(...deciding.map((timing) => timing.gracePeriodSeconds)),
    retentionPeriodSeconds: Math.min(...deciding.map((timing) => timing.retentionPeriodSeconds)),
  };
}

/** The DNS suffix of one environment's routes. */
export interface EnvironmentDomain {
  /** Value of the `environment` label the environment's GitOps sync puts on every object. */
  readonly environment: string;
  readonly domain: string;
}

/** Routes of no environment get this suffix, which Knative never exposes outside the cluster. */
export const CLUSTER_LOCAL_DOMAIN = "svc.cluster.local";

/** HTTPS on the gateway for every exposed route. */
export interface GatewayTls {
  /** A cert-manager Certificate in the serving namespace covering every exposed name. */
  readonly certificate: KubernetesObject & { readonly spec: { readonly secretName: string } };
  /** What the certificate needs first: cert-manager and its issuer. */
  readonly dependsOn: ITerraformDependable[];
}

export interface KnativeProps extends AddonOptions {
  readonly cloud: string;
  /** Route domains by environment. */
  readonly domains: readonly EnvironmentDomain[];
  readonly scaleToZero: ScaleToZeroDefaults;
  /** DNS names external-dns publishes at the gateway's load balancer. */
  readonly publishedNames: readonly string[];
  /** Annotations the cloud's load balancer controller reads on the gateway's Service. @default - none */
  readonly loadBalancerAnnotations?: Record<string, string>;
  readonly tls: GatewayTls;
  /**
   * Lets Knative Services set a node selector and tolerations: pull-request
   * previews' syncs add them to run on the previews' own nodes.
   * @default false
   */
  readonly dedicatedNodes?: boolean;
}

/** The Knative feature flags behind `nodeSelector` and `tolerations` in a Service's pod spec. */
export const DEDICATED_NODES_FEATURE_FLAGS = ["kubernetes.podspec-nodeselector", "kubernetes.podspec-tolerations"] as const;

/**
 * Knative Serving through the Knative Operator: the operator's chart, then a
 * KnativeServing resource with Kourier as the ingress and each environment's
 * routes under its own domain. The resource goes
 * through a release of the local manifests chart, which plans on a fresh
 * cluster where `kubernetes_manifest` could not (its CRD does not exist yet).
 * `helm-values/knative-serving.yaml` and its cloud overlay are merged into
 * the resource's `spec`.
 */
export class KnativeAddon extends Construct {
  readonly operator: HelmAddon;
  readonly serving: ManifestsRelease;

  constructor(scope: Construct, id: string, props: KnativeProps) {
    super(scope, id);
    this.operator = new HelmAddon(this, "operator", {
      chart: "knative-operator",
      releaseName: "knative-operator",
      namespace: "knative-operator",
      cloud: props.cloud,
      valuesDir: props.valuesDir,
      dependsOn: props.dependsOn,
    });
    const namespace = new NamespaceV1(this, "namespace", {
      metadata: { name: KNATIVE_SERVING_NAMESPACE, labels: { "app.kubernetes.io/managed-by": "cdktf" } },
    });
    const spec = releaseValues(
      {
        ingress: { kourier: { enabled: true } },
        services: [{ name: KOURIER_SERVICE, annotations: { ...props.loadBalancerAnnotations, [EXTERNAL_DNS_HOSTNAME]: props.publishedNames.join(",") } }],
        // One certificate on Kourier's HTTPS listener for every external route;
        // cluster-local routes get no TLS listener and stay inside the cluster.
        workloads: [
          {
            name: "net-kourier-controller",
            env: [
              {
                container: "controller",
                envVars: [
                  { name: "CERTS_SECRET_NAMESPACE", value: KNATIVE_SERVING_NAMESPACE },
                  { name: "CERTS_SECRET_NAME", value: props.tls.certificate.spec.secretName },
                ],
              },
            ],
          },
        ],
        config: {
          network: {
            "ingress-class": KOURIER_INGRESS_CLASS,
            // Plain HTTP on an external route answers with a redirect to HTTPS,
            // and routes show https:// URLs (status.url, kn): without it
            // Knative writes http:// for every route whose KIngress has no TLS
            // of its own, which is every route here.
            "http-protocol": "Redirected",
            "default-external-scheme": "https",
            // The environment's domain already names the environment, and
            // production may serve on the base domain itself.
            "domain-template": "{{.Name}}.{{.Domain}}",
          },
          domain: {
            // The least specific entry: a route outside every environment stays private.
            [CLUSTER_LOCAL_DOMAIN]: "",
            ...Object.fromEntries(props.domains.map(({ environment, domain }) => [domain, stringify({ selector: { environment } })])),
          },
          // Request metrics in Prometheus format on the queue-proxy's and the
          // activator's metrics ports, which the platform's PodMonitors scrape.
          observability: { "metrics-protocol": "prometheus", "request-metrics-protocol": "prometheus" },
          // Init containers, off in Knative by default: the migration pattern's
          // revisions wait in one until the database has their migrations
          // (docs/examples/api-with-migration.yaml).
          features: { [MIGRATION_FEATURE_FLAG]: "enabled", ...(props.dedicatedNodes && Object.fromEntries(DEDICATED_NODES_FEATURE_FLAGS.map((flag) => [flag, "enabled"]))) },
          autoscaler: {
            "enable-scale-to-zero": "true",
            "scale-to-zero-grace-period": `${props.scaleToZero.gracePeriodSeconds}s`,
            "scale-to-zero-pod-retention-period": `${props.scaleToZero.retentionPeriodSeconds}s`,
          },
        },
      },
      props.valuesDir ?? DEFAULT_VALUES_DIR,
      "knative-serving",
      props.cloud,
    );
    const knativeServing: KubernetesObject = {
      apiVersion: "operator.knative.dev/v1beta1",
      kind: "KnativeServing",
      metadata: { name: "knative-serving", namespace: KNATIVE_SERVING_NAMESPACE },
      spec,
    };
    this.serving = new ManifestsRelease(this, "serving", {
      name: "knative-serving",
      namespace: KNATIVE_SERVING_NAMESPACE,
      // The certificate first: Kourier's controller exits while its secret is
      // missing, and the certificate's temporary one exists within seconds.
      manifests: [props.tls.certificate, knativeServing],
      dependsOn: [this.operator.release, namespace, ...props.tls.dependsOn],
    });
  }
}
