import { Construct } from "constructs";
import type { KubernetesObject } from "../kubernetes/manifests-release";
import { ManifestsRelease } from "../kubernetes/manifests-release";
import { HelmAddon, type AddonOptions } from "./helm-addon";
import { LOKI_PORT, LOKI_URL } from "./logs";
import { MONITORING_NAMESPACE, PROMETHEUS_PORT, PROMETHEUS_URL, grafanaAdminSecret } from "./monitoring";
import type { Values } from "./values";

/** The central Grafana's release, also its Service and the `job` of its metrics. */
export const CENTRAL_GRAFANA_RELEASE = "grafana-central";
/** Its admin user and generated password. */
export const CENTRAL_GRAFANA_ADMIN_SECRET = "grafana-central-admin";

/**
 * Where a cluster's Prometheus and Loki answer the tools cluster: a name in
 * the private zone `internal.<base domain>`, resolved over the peered
 * networks to an internal load balancer of that cluster (docs/topology.md,
 * "Central Grafana"). The workload clusters publish these names; the tools
 * cluster's Grafana reads them.
 */
export function privateMonitoringHost(service: "prometheus" | "loki", cluster: string, baseDomain: string): string {
  return `${service}.${cluster}.internal.${baseDomain}`;
}

export interface CentralGrafanaProps extends AddonOptions {
  readonly cloud: string;
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

  constructor(scope: Construct, id: string, props: CentralGrafanaProps) {
    super(scope, id);
    this.dataSources = [
      ...clusterDataSources(props.cluster, { prometheus: PROMETHEUS_URL, loki: LOKI_URL }),
      ...props.otherClusters.flatMap((cluster) =>
        clusterDataSources(cluster, {
          prometheus: `http://${privateMonitoringHost("prometheus", cluster, props.baseDomain)}:${PROMETHEUS_PORT}`,
          loki: `http://${privateMonitoringHost("loki", cluster, props.baseDomain)}:${LOKI_PORT}`,
        }),
      ),
    ];
    const manifests: KubernetesObject[] = grafanaAdminSecret(CENTRAL_GRAFANA_ADMIN_SECRET, MONITORING_NAMESPACE);
    this.secrets = new ManifestsRelease(this, "secrets", { name: "grafana-central-secrets", namespace: MONITORING_NAMESPACE, manifests, dependsOn: props.dependsOn });
    this.grafana = new HelmAddon(this, "grafana", {
      cloud: props.cloud,
      valuesDir: props.valuesDir,
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
      },
    });
  }
}
