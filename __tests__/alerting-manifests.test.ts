import { App, TerraformStack } from "cdktf";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config";
import { ACTIVATOR_JOB, EXTERNAL_SECRETS_JOB, GATEWAY_JOB, KNATIVE_SERVICE_LABEL, QUEUE_PROXY_JOB, REQUEST_COUNT } from "../constructs/addons/alert-rules";
import { Alerting, environmentDashboard, GRAFANA_DASHBOARD_LABEL, knativeMonitors } from "../constructs/addons/alerting";
import { platformResourceState, WATCHED_RESOURCES } from "../constructs/addons/kube-state-metrics";

describe("what the alerting release applies", () => {
  const config = loadConfig();

  it("ships one PrometheusRule per concern, the Knative monitors and a dashboard per environment", () => {
    const stack = new TerraformStack(new App(), "alerting");
    const alerting = new Alerting(stack, "alerting", { namespace: "monitoring", rules: { environments: config.environments, node: config.alerts.node }, dependsOn: [] });
    expect(alerting.manifests.manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
      "PrometheusRule/platform-application-errors",
      "PrometheusRule/platform-nodes",
      "PrometheusRule/platform-workloads",
      "PrometheusRule/platform-health",
      `PodMonitor/${QUEUE_PROXY_JOB}`,
      `PodMonitor/${ACTIVATOR_JOB}`,
      `PodMonitor/${GATEWAY_JOB}`,
      `PodMonitor/${EXTERNAL_SECRETS_JOB}`,
      "ConfigMap/dashboard-develop",
      "ConfigMap/dashboard-staging",
      "ConfigMap/dashboard-production",
    ]);
  });

  it("scrapes the queue-proxy in the environments and the activator in knative-serving, naming the job and the service", () => {
    const [queueProxy, activator, gateway] = knativeMonitors("monitoring", ["develop", "production"]) as any[];
    expect(gateway.spec.podMetricsEndpoints[0].metricRelabelings).toEqual([{ action: "keep", sourceLabels: ["__name__"], regex: "envoy_cluster_upstream_rq_xx" }]);
    expect(queueProxy.spec.namespaceSelector).toEqual({ matchNames: ["develop", "production"] });
    expect(queueProxy.spec.podMetricsEndpoints[0].port).toBe("http-usermetric");
    expect(activator.spec.namespaceSelector).toEqual({ matchNames: ["knative-serving"] });
    for (const [monitor, job] of [[queueProxy, QUEUE_PROXY_JOB], [activator, ACTIVATOR_JOB]]) {
      expect(monitor.spec.podMetricsEndpoints[0].relabelings).toEqual([
        { action: "replace", targetLabel: "job", replacement: job },
        { action: "replace", sourceLabels: ["__meta_kubernetes_pod_label_serving_knative_dev_service"], targetLabel: KNATIVE_SERVICE_LABEL },
      ]);
    }
  });

  it("gives Grafana's sidecar a dashboard of requests, 5xx ratio, latency and instances for the environment", () => {
    const configMap = environmentDashboard("monitoring", "staging") as any;
    expect(configMap.metadata.labels).toEqual(GRAFANA_DASHBOARD_LABEL);
    const dashboard = JSON.parse(configMap.data["platform-staging.json"]);
    expect(dashboard.title).toBe("Platform: staging");
    expect(dashboard.panels.map((p: any) => p.title)).toEqual(["Requests", "5xx ratio", "Latency (p95)", "Instances"]);
    for (const panel of dashboard.panels) expect(panel.targets[0].expr).toContain(`namespace="staging"`);
    expect(dashboard.panels[1].targets[0].expr).toContain(`${REQUEST_COUNT}{job="${QUEUE_PROXY_JOB}", namespace="staging", http_response_status_code=~"5.."}`);
  });

  it("lets kube-state-metrics list exactly the kinds it reports readiness of", () => {
    const values = platformResourceState() as any;
    const listed = values.rbac.extraRules.flatMap((rule: any) => rule.resources.map((resource: string) => `${rule.apiGroups[0]}/${resource}`));
    expect(listed.sort()).toEqual(WATCHED_RESOURCES.map((r) => `${r.group}/${r.plural}`).sort());
    for (const rule of values.rbac.extraRules) expect(rule.verbs).toEqual(["list", "watch"]);
    const metrics = values.customResourceState.config.spec.resources;
    expect(metrics).toHaveLength(WATCHED_RESOURCES.length);
    expect(metrics[0].metricNamePrefix).toBe("platform");
    expect(metrics[0].metrics[0]).toMatchObject({ name: "resource_info", labelsFromPath: { ready: ["status", "conditions", "[type=Ready]", "status"] } });
  });
});
