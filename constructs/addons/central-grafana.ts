import { Construct } from "constructs";
import { privateMonitoringHost, type PrivateMonitoringService } from "../contract";
import type { KubernetesObject } from "../kubernetes/manifests-release";
import { ManifestsRelease } from "../kubernetes/manifests-release";
import { addonBase, HelmAddon, type AddonOptions } from "./helm-addon";
import { LOKI_PORT, LOKI_URL } from "./loki";
import { MONITORING_NAMESPACE, PROMETHEUS_PORT, PROMETHEUS_URL, grafanaAdminSecret } from "./monitoring";
import type { Values } from "./values";

/** The central Grafana's release, also its Service and the `job` of its metrics. */
export const CENTRAL_GRAFANA_RELEASE = "grafana-central";
/** Its admin user and generated password. */
export const CENTRAL_GRAFANA_ADMIN_SECRET = "grafana-central-admin";

export interface CentralGrafanaProps extends AddonOptions {
  /** The tools cluster's own name: its Prometheus and Loki are reached in the cluster. */
  readonly cluster: string;
  /** Every other cluster of the cloud, in the config's order. */
  readonly otherClusters: readonly string[];
  readonly baseDomain: string;
  readonly storageClassName: string;
}

/** The data sources of one cluster's Prometheus and Loki, with uids by cluster. */
export function clusterDataSources(cluster: string, urls: { prometheus: string; loki: string }): Values[] {
  return [
    { name: `Prometheus ${cluster}`, type: "prometheus", uid: `prometheus-${cluster}`, access: "proxy", url: urls.prometheus, editable: false },
    { name: `Loki ${cluster}`, type: "loki", uid: `loki-${cluster}`, access: "proxy", url: urls.loki, editable: false, jsonData: { maxLines: 1000 } },
  ];
}

/** `<host>:<port>` of another cluster's Prometheus or Loki, where the tools cluster reaches it. */
function privateMonitoringAddress(service: PrivateMonitoringService, cluster: string, baseDomain: string): string {
  return `${privateMonitoringHost(service, cluster, baseDomain)}:${{ prometheus: PROMETHEUS_PORT, loki: LOKI_PORT }[service]}`;
}

/** The `job` of the tools cluster's scrape of every other cluster's Prometheus and Loki. */
export const CLUSTER_MONITORING_JOB = "cluster-monitoring";

/**
 * The tools cluster's Prometheus scrapes the other clusters' Prometheus and
 * Loki at the names the central Grafana reads: `up` of this job is whether
 * the data sources answer, over the same private path, which the tools
 * cluster's rules alert on (ClusterMonitoringUnreachable).
 */
export function clusterMonitoringScrape(otherClusters: readonly string[], baseDomain: string, namespace: string): KubernetesObject {
  return {
    apiVersion: "monitoring.coreos.com/v1alpha1",
    kind: "ScrapeConfig",
    metadata: { name: CLUSTER_MONITORING_JOB, namespace },
    spec: {
      jobName: CLUSTER_MONITORING_JOB,
      scheme: "HTTP",
      metricsPath: "/metrics",
      scrapeInterval: "1m",
      // The other clusters' own metrics are theirs to keep: only whether they answer matters here.
      metricRelabelings: [{ action: "drop", sourceLabels: ["__name__"], regex: ".+" }],
      staticConfigs: otherClusters.map((cluster) => ({
        labels: { target_cluster: cluster },
        targets: [privateMonitoringAddress("prometheus", cluster, baseDomain), privateMonitoringAddress("loki", cluster, baseDomain)],
      })),
    },
  };
}

/** Where the chart puts the dashboards of the provider `platform`. */
const DASHBOARDS_DIR = "/var/lib/grafana/dashboards/platform";

/**
 * One stat per cluster: how many Watchdogs its Prometheus has firing. 1 is
 * alive, 0 is "silent" (the rules stopped), no value is "unreachable" (the
 * cluster, its Prometheus or the path to it is down).
 */
export function heartbeatDashboard(clusters: readonly string[]): Values {
  return {
    uid: "platform-clusters",
    title: "Clusters: heartbeats",
    schemaVersion: 39,
    refresh: "1m",
    time: { from: "now-1h", to: "now" },
    panels: clusters.map((cluster, i) => ({
      id: i + 1,
      type: "stat",
      title: cluster,
      gridPos: { x: (i % 4) * 6, y: Math.floor(i / 4) * 4, w: 6, h: 4 },
      datasource: { type: "prometheus", uid: `prometheus-${cluster}` },
      targets: [{ refId: "A", datasource: { type: "prometheus", uid: `prometheus-${cluster}` }, expr: 'count(ALERTS{alertname="Watchdog", alertstate="firing"}) or vector(0)', instant: true }],
      fieldConfig: {
        defaults: {
          noValue: "unreachable",
          mappings: [{ type: "value", options: { "0": { text: "silent", color: "red" } } }],
          thresholds: { mode: "absolute", steps: [{ color: "red", value: null }, { color: "green", value: 1 }] },
        },
        overrides: [],
      },
      options: { colorMode: "background", graphMode: "none", reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false } },
    })),
  };
}

/**
 * Grafana on the tools cluster with every cluster's Prometheus and Loki as
 * data sources, provisioned from the cluster list: one place to look. Its
 * admin password is generated in the cluster by External Secrets, so none
 * passes through Terraform.
 */
export class CentralGrafana extends Construct {
  readonly secrets: ManifestsRelease;
  readonly grafana: HelmAddon;
  readonly dataSources: Values[];
  readonly dashboard: Values;

  constructor(scope: Construct, id: string, props: CentralGrafanaProps) {
    super(scope, id);
    this.dataSources = [
      ...clusterDataSources(props.cluster, { prometheus: PROMETHEUS_URL, loki: LOKI_URL }),
      ...props.otherClusters.flatMap((cluster) =>
        clusterDataSources(cluster, {
          prometheus: `http://${privateMonitoringAddress("prometheus", cluster, props.baseDomain)}`,
          loki: `http://${privateMonitoringAddress("loki", cluster, props.baseDomain)}`,
        }),
      ),
    ];
    this.dashboard = heartbeatDashboard([props.cluster, ...props.otherClusters]);
    const manifests: KubernetesObject[] = grafanaAdminSecret(CENTRAL_GRAFANA_ADMIN_SECRET, MONITORING_NAMESPACE);
    this.secrets = new ManifestsRelease(this, "secrets", { name: "grafana-central-secrets", namespace: MONITORING_NAMESPACE, manifests, dependsOn: props.dependsOn });
    this.grafana = new HelmAddon(this, "grafana", {
      ...addonBase(props),
      dependsOn: [this.secrets.release],
      chart: "grafana",
      releaseName: CENTRAL_GRAFANA_RELEASE,
      namespace: MONITORING_NAMESPACE,
      createNamespace: false,
      values: {
        fullnameOverride: CENTRAL_GRAFANA_RELEASE,
        admin: { existingSecret: CENTRAL_GRAFANA_ADMIN_SECRET, userKey: "admin-user", passwordKey: "admin-password" },
        persistence: { enabled: true, storageClassName: props.storageClassName, size: "10Gi" },
        // Scraped by the cluster's own Prometheus, for the tools cluster's alert on it.
        serviceMonitor: { enabled: true },
        testFramework: { enabled: false },
        datasources: { "datasources.yaml": { apiVersion: 1, datasources: this.dataSources } },
        // The other clusters' heartbeats, in one place (docs/topology.md).
        dashboardProviders: {
          "dashboardproviders.yaml": {
            apiVersion: 1,
            providers: [{ name: "platform", orgId: 1, folder: "Platform", type: "file", disableDeletion: true, editable: false, options: { path: DASHBOARDS_DIR } }],
          },
        },
        dashboards: { platform: { clusters: { json: JSON.stringify(this.dashboard) } } },
      },
    });
  }
}
