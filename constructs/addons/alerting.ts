import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { ManifestsRelease, type KubernetesObject } from "../kubernetes/manifests-release";
import { IN_CLUSTER } from "../contract";
import {
  ACTIVATOR_JOB,
  EXTERNAL_SECRETS_JOB,
  GATEWAY_JOB,
  alertRuleGroups,
  KNATIVE_SERVICE_LABEL,
  prometheusRules,
  QUEUE_PROXY_JOB,
  GATEWAY_REQUESTS,
  REQUEST_COUNT,
  REQUEST_DURATION_BUCKET,
  type AlertRulesInput,
  type RuleGroup,
} from "./alert-rules";
import { EXTERNAL_SECRETS_RELEASE } from "./external-secrets";
import { KNATIVE_SERVING_NAMESPACE } from "./knative";

/** Label and value Grafana's sidecar loads dashboards from (kube-prometheus-stack's defaults). */
export const GRAFANA_DASHBOARD_LABEL = { grafana_dashboard: "1" } as const;

export interface AlertingProps {
  readonly namespace: string;
  readonly rules: AlertRulesInput;
  /** The monitoring stack's release: its CRDs, Prometheus and Grafana. */
  readonly dependsOn: ITerraformDependable[];
}

/**
 * What the platform watches beyond kube-prometheus-stack's defaults: its own
 * rule groups, the scraping of Knative's queue-proxy and activator, and a
 * dashboard per environment. One release of the local manifests chart,
 * installed after the monitoring stack whose CRDs it uses.
 */
export class Alerting extends Construct {
  readonly groups: RuleGroup[];
  readonly manifests: ManifestsRelease;

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);
    this.groups = alertRuleGroups(props.rules);
    const environments = props.rules.environments.map((environment) => environment.name);
    this.manifests = new ManifestsRelease(this, "manifests", {
      name: "platform-alerting",
      namespace: props.namespace,
      manifests: [
        ...prometheusRules(this.groups, props.namespace),
        // The webhook proxy is a Knative Service too: its queue-proxy counts the deliveries.
        ...knativeMonitors(props.namespace, [...environments, ...(props.rules.webhooks ? [props.rules.webhooks.proxyNamespace] : [])]),
        externalSecretsMonitor(props.namespace),
        ...environments.map((environment) => environmentDashboard(props.namespace, environment)),
      ],
      dependsOn: props.dependsOn,
    });
  }
}

/**
 * Pods the platform scrapes itself, by the labels and port names their
 * upstream manifests give them: Knative Serving 1.23's activator, the
 * Kourier gateway the Knative operator 1.23 installs beside it, and the
 * External Secrets controller of chart 2.9.0 (whose own ServiceMonitor would
 * need the monitoring stack before External Secrets, which the monitoring
 * stack's secrets need first). A test checks them against pinned copies of
 * those manifests' facts.
 */
export const SCRAPED_PODS = {
  activator: { namespace: KNATIVE_SERVING_NAMESPACE, labels: { app: "activator" }, port: "metrics" },
  gateway: { namespace: KNATIVE_SERVING_NAMESPACE, labels: { app: "3scale-kourier-gateway" }, port: "metrics", path: "/stats/prometheus" },
  externalSecrets: {
    namespace: IN_CLUSTER.externalSecrets.namespace,
    labels: { "app.kubernetes.io/name": "external-secrets", "app.kubernetes.io/instance": EXTERNAL_SECRETS_RELEASE },
    port: "metrics",
  },
} as const;

/** A PodMonitor in `namespace` scraping one endpoint of the pods `selector` picks in `namespaces`. */
function podMonitor(namespace: string, job: string, namespaces: readonly string[], selector: Record<string, unknown>, endpoint: Record<string, unknown>): KubernetesObject {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PodMonitor",
    metadata: { name: job, namespace },
    spec: { namespaceSelector: { matchNames: [...namespaces] }, selector, podMetricsEndpoints: [endpoint] },
  };
}

/** A PodMonitor of one of SCRAPED_PODS, naming its job. */
function scrapedPodMonitor(
  namespace: string,
  job: string,
  pods: (typeof SCRAPED_PODS)[keyof typeof SCRAPED_PODS],
  { relabelings = [], ...endpoint }: { relabelings?: unknown[]; [field: string]: unknown } = {},
): KubernetesObject {
  return podMonitor(namespace, job, [pods.namespace], { matchLabels: { ...pods.labels } }, {
    port: pods.port,
    ...("path" in pods ? { path: pods.path } : {}),
    relabelings: [{ action: "replace", targetLabel: "job", replacement: job }, ...relabelings],
    ...endpoint,
  });
}

/**
 * PodMonitors for Knative's request metrics. The queue-proxy beside every
 * application container counts what the application answered; the activator
 * answers while a service scales from zero; the Kourier gateway answers when
 * no instance can. Each scrape names its job, and the first two copy the
 * Knative service name, which the rules and dashboards group by.
 */
export function knativeMonitors(namespace: string, environments: readonly string[]): KubernetesObject[] {
  const service = () => ({ action: "replace", sourceLabels: ["__meta_kubernetes_pod_label_serving_knative_dev_service"], targetLabel: KNATIVE_SERVICE_LABEL });
  return [
    podMonitor(namespace, QUEUE_PROXY_JOB, environments, { matchExpressions: [{ key: "serving.knative.dev/revision", operator: "Exists" }] }, {
      port: "http-usermetric",
      relabelings: [{ action: "replace", targetLabel: "job", replacement: QUEUE_PROXY_JOB }, service()],
    }),
    scrapedPodMonitor(namespace, ACTIVATOR_JOB, SCRAPED_PODS.activator, { relabelings: [service()] }),
    // Envoy exports thousands of series; the 5xx rule needs one counter.
    scrapedPodMonitor(namespace, GATEWAY_JOB, SCRAPED_PODS.gateway, { metricRelabelings: [{ action: "keep", sourceLabels: ["__name__"], regex: GATEWAY_REQUESTS }] }),
  ];
}

/** The External Secrets controller, for PlatformTargetDown: when it stops, secrets silently stop refreshing. */
export function externalSecretsMonitor(namespace: string): KubernetesObject {
  return scrapedPodMonitor(namespace, EXTERNAL_SECRETS_JOB, SCRAPED_PODS.externalSecrets);
}

/** Requests, 5xx ratio, latency and instances of one environment's services. */
export function environmentDashboard(namespace: string, environment: string): KubernetesObject {
  const selector = `job="${QUEUE_PROXY_JOB}", namespace="${environment}"`;
  const by = `by (${KNATIVE_SERVICE_LABEL})`;
  const panel = (id: number, title: string, expr: string, unit: string) => ({
    id,
    type: "timeseries",
    title,
    datasource: { type: "prometheus", uid: "prometheus" },
    gridPos: { h: 8, w: 12, x: ((id - 1) % 2) * 12, y: Math.floor((id - 1) / 2) * 8 },
    fieldConfig: { defaults: { unit }, overrides: [] },
    targets: [{ refId: "A", expr, legendFormat: `{{${KNATIVE_SERVICE_LABEL}}}` }],
  });
  const dashboard = {
    uid: `platform-${environment}`.slice(0, 40),
    title: `Platform: ${environment}`,
    tags: ["platform", environment],
    timezone: "utc",
    schemaVersion: 39,
    refresh: "1m",
    time: { from: "now-6h", to: "now" },
    panels: [
      panel(1, "Requests", `sum ${by} (rate(${REQUEST_COUNT}{${selector}}[5m]))`, "reqps"),
      panel(
        2,
        "5xx ratio",
        `sum ${by} (rate(${REQUEST_COUNT}{${selector}, http_response_status_code=~"5.."}[5m])) / sum ${by} (rate(${REQUEST_COUNT}{${selector}}[5m]))`,
        "percentunit",
      ),
      panel(3, "Latency (p95)", `histogram_quantile(0.95, sum by (le, ${KNATIVE_SERVICE_LABEL}) (rate(${REQUEST_DURATION_BUCKET}{${selector}}[5m])))`, "s"),
      panel(4, "Instances", `count ${by} (up{${selector}} == 1)`, "short"),
    ],
  };
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: `dashboard-${environment}`, namespace, labels: { ...GRAFANA_DASHBOARD_LABEL } },
    data: { [`platform-${environment}.json`]: JSON.stringify(dashboard) },
  };
}
