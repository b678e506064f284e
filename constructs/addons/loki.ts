import { readFileSync } from "node:fs";
import * as path from "node:path";
import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import type { ITerraformDependable } from "cdktf";
import type { Construct } from "constructs";
import { parse } from "yaml";
import type { LogRetention, LogsConfig } from "../../config/logs";
import { LOKI_INDEX_PREFIX, LOKI_TENANT } from "../common/log-store";
import { IN_CLUSTER, type LogStore } from "../contract";
import { ManifestsRelease } from "../kubernetes/manifests-release";
import { addonBase, HelmAddon, type AddonOptions } from "./helm-addon";
import { ALERTMANAGER_URL } from "./monitoring";
import type { Values } from "./values";

/** The rule files, kept as code beside the program. */
export const ALERT_RULES_DIR = path.join(__dirname, "..", "..", "alert-rules");
/** Loki's ruler rules: LogQL alerts on application logs. */
export const LOG_ALERT_RULES_FILE = path.join(ALERT_RULES_DIR, "application-logs.loki.yaml");
/** Prometheus rules on Loki's and Alloy's own metrics. */
export const LOKI_HEALTH_RULES_FILE = path.join(ALERT_RULES_DIR, "loki.rules.yaml");

export const LOKI_RELEASE = "loki";
export const LOKI_PORT = 3100;
/** Loki's HTTP API in the cluster: Alloy pushes there, Grafana queries there. */
export const LOKI_URL = `http://${LOKI_RELEASE}.${IN_CLUSTER.logs.namespace}.svc.cluster.local:${LOKI_PORT}`;
/** Label the Loki chart's rules sidecar selects ConfigMaps by. */
const RULES_LABEL = "loki_rule";
/** Where the sidecar writes rule files: the ruler reads `<dir>/<tenant>/`. */
const RULES_DIR = "/rules";
/**
 * The schema's first day. Fixed forever: changing it, or adding a period,
 * is a schema migration (docs/logs.md).
 */
export const LOKI_SCHEMA_FROM = "2025-01-01";

export interface LokiProps extends AddonOptions {
  readonly storage: LogStore;
  readonly storageClassName: string;
  readonly retention: LogRetention;
  readonly limits: LogsConfig["limits"];
  /** The release providing the ServiceMonitor and PrometheusRule CRDs and Alertmanager. */
  readonly monitoring: ITerraformDependable;
  /**
   * Annotations that make Loki's own Service an internal load balancer the
   * tools cluster's Grafana reads (ClusterPlatform.privateMonitoring).
   * @default - a ClusterIP Service, reached in the cluster only
   */
  readonly publishAnnotations?: Record<string, string>;
}

/** The Grafana data source for Loki, provisioned with kube-prometheus-stack. */
export function lokiDataSource(): Values {
  return { name: "Loki", type: "loki", uid: "loki", access: "proxy", url: LOKI_URL, jsonData: { maxLines: 1000 } };
}

const days = (n: number): string => `${n * 24}h`;

/** Reads a YAML rule file: a mapping with `groups`. */
export function readRuleGroups(file: string): { groups: Values[] } {
  const parsed = parse(readFileSync(file, "utf8")) as { groups?: Values[] } | null;
  if (!parsed || !Array.isArray(parsed.groups)) throw new Error(`${file}: a rule file must hold a 'groups' list`);
  return { groups: parsed.groups };
}

/**
 * Loki as one binary (`SingleBinary`): a small team's volume (a few GB a day)
 * fits one pod, and there is one thing to watch and upgrade. Chunks and index
 * are in object storage, so the pod keeps only its write-ahead log on a
 * volume; growing out of it is a values change (docs/logs.md). Its ruler reads
 * the log alert rules from the ConfigMap `log-alert-rules`.
 *
 * Made in `scope` (the logs add-on), whose construct ids the resources keep.
 */
export function lokiRelease(scope: Construct, props: LokiProps): { release: HelmAddon; logAlertRules: ConfigMapV1 } {
  const namespace = IN_CLUSTER.logs.namespace;
  const { storage, retention, limits } = props;

const release = new HelmAddon(scope, "loki", {
    chart: "loki",
    releaseName: LOKI_RELEASE,
    namespace,
    createNamespace: false,
    ...addonBase(props),
    // The chart's ServiceMonitor needs the CRD; the ruler needs Alertmanager.
    dependsOn: [...(props.dependsOn ?? []), props.monitoring],
    values: {
      deploymentMode: "SingleBinary",
      loki: {
        // One tenant: the cluster's. Isolation between environments is by label.
        auth_enabled: false,
        commonConfig: { replication_factor: 1 },
        storage: storage.lokiStorage,
        schemaConfig: {
          configs: [
            { from: LOKI_SCHEMA_FROM, store: "tsdb", object_store: storage.objectStore, schema: "v13", index: { prefix: LOKI_INDEX_PREFIX, period: "24h" } },
          ],
        },
        podLabels: storage.identity.podLabels,
        limits_config: {
          retention_period: days(retention.defaultDays),
          retention_stream: Object.entries(retention.byNamespace).map(([name, n]) => ({ selector: `{namespace="${name}"}`, priority: 1, period: days(n) })),
          ingestion_rate_mb: limits.ingestionRateMb,
          ingestion_burst_size_mb: limits.ingestionBurstMb,
          per_stream_rate_limit: `${limits.perStreamRateMb}MB`,
          per_stream_rate_limit_burst: `${limits.perStreamRateMb * 3}MB`,
          max_line_size: `${limits.maxLineSizeKb}KB`,
          // A long line (a stack trace on one line) is cut, not lost.
          max_line_size_truncate: true,
        },
        compactor: {
          working_directory: "/var/loki/compactor",
          retention_enabled: true,
          retention_delete_delay: "2h",
          delete_request_store: storage.objectStore,
        },
        rulerConfig: {
          storage: { type: "local", local: { directory: RULES_DIR } },
          // Scratch space of the ruler, apart from the sidecar's directory.
          rule_path: "/var/loki/rules-scratch",
          alertmanager_url: ALERTMANAGER_URL,
          enable_api: true,
          remote_write: { enabled: false },
        },
        analytics: { reporting_enabled: false },
      },
      serviceAccount: { create: true, name: IN_CLUSTER.logs.serviceAccount, annotations: storage.identity.serviceAccountAnnotations },
      singleBinary: {
        replicas: 1,
        persistence: { enabled: true, storageClass: props.storageClassName, size: "10Gi" },
        resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "2Gi" } },
        ...(props.publishAnnotations === undefined ? {} : { service: { type: "LoadBalancer", annotations: props.publishAnnotations } }),
      },
      // Simple-scalable targets off: everything runs in the single binary.
      write: { replicas: 0 },
      read: { replicas: 0 },
      backend: { replicas: 0 },
      // The caches reserve gigabytes of memory a small install never uses.
      chunksCache: { enabled: false },
      resultsCache: { enabled: false },
      // Grafana and Alloy talk to Loki directly; no gateway, no canary.
      gateway: { enabled: false },
      lokiCanary: { enabled: false },
      test: { enabled: false },
      sidecar: { rules: { enabled: true, label: RULES_LABEL, folder: `${RULES_DIR}/${LOKI_TENANT}`, searchNamespace: [namespace], resource: "configmap" } },
      // The rules sidecar watches one namespace: a Role there, not the
      // chart's default ClusterRole that reads every Secret of the cluster.
      rbac: { namespaced: true },
      monitoring: { serviceMonitor: { enabled: true, metricsInstance: { enabled: false } } },
    },
  });

  // Parsed first, so that a broken file fails the synth rather than the ruler.
  readRuleGroups(LOG_ALERT_RULES_FILE);
  const logAlertRules = new ConfigMapV1(scope, "log-alert-rules", {
    metadata: { name: "log-alert-rules", namespace, labels: { [RULES_LABEL]: "", "app.kubernetes.io/managed-by": "cdktf" } },
    data: { [path.basename(LOG_ALERT_RULES_FILE)]: readFileSync(LOG_ALERT_RULES_FILE, "utf8") },
  });
  return { release, logAlertRules };
}

/** Prometheus rules on Loki's and Alloy's own metrics, once the monitoring stack's CRD exists. */
export function lokiHealthRules(scope: Construct, monitoring: ITerraformDependable): ManifestsRelease {
  const namespace = IN_CLUSTER.logs.namespace;
  return new ManifestsRelease(scope, "health-rules", {
    name: "loki-health-rules",
    namespace,
    manifests: [
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: "loki", namespace, labels: { "app.kubernetes.io/part-of": "logs" } },
        spec: readRuleGroups(LOKI_HEALTH_RULES_FILE),
      },
    ],
    dependsOn: [monitoring],
  });
}
