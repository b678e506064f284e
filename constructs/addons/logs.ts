import { readFileSync } from "node:fs";
import * as path from "node:path";
import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { parse } from "yaml";
import type { LogRetention, LogsConfig } from "../../config/logs";
import { LOKI_INDEX_PREFIX, LOKI_TENANT } from "../common/log-store";
import { IN_CLUSTER, type LogStorage } from "../contract";
import { ManifestsRelease } from "../kubernetes/manifests-release";
import { HelmAddon, type AddonOptions } from "./helm-addon";
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

/** Where the log collector keeps its data: a directory of the node, outliving the pod. */
export const ALLOY_NODE_DATA = { volume: "alloy-data", hostPath: "/var/lib/alloy-logs", mountPath: "/var/lib/alloy" } as const;

/** The labels every log line carries; the rules and the docs rely on them. */
export const LOG_LABELS = ["namespace", "pod", "container", "app", "environment"] as const;
/** `environment` of lines from namespaces that are not an environment's. */
export const PLATFORM_ENVIRONMENT = "platform";

export interface LogsProps extends AddonOptions {
  readonly cloud: string;
  readonly storage: LogStorage;
  readonly storageClassName: string;
  readonly retention: LogRetention;
  readonly limits: LogsConfig["limits"];
  /** Environment names, which are also their namespaces. */
  readonly environments: string[];
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
 * Logs: Loki on the platform's object storage, Alloy on every node, log
 * alert rules for Loki's ruler and Prometheus rules for Loki itself.
 *
 * Loki runs as one binary (`SingleBinary`): a small team's volume (a few
 * GB a day) fits one pod, and there is one thing to watch and upgrade. Chunks
 * and index are in object storage, so the pod keeps only its write-ahead log
 * on a volume; growing out of it is a values change (docs/logs.md).
 */
export class LogsAddon extends Construct {
  readonly loki: HelmAddon;
  readonly collector: HelmAddon;
  readonly events: HelmAddon;
  readonly rules: ManifestsRelease;
  /** Loki's ruler reads the log alert rules from this ConfigMap. */
  readonly logAlertRules: ConfigMapV1;

  constructor(scope: Construct, id: string, props: LogsProps) {
    super(scope, id);
    const namespace = IN_CLUSTER.logs.namespace;
    const { storage, retention, limits } = props;

    this.loki = new HelmAddon(this, "loki", {
      chart: "loki",
      releaseName: LOKI_RELEASE,
      namespace,
      createNamespace: false,
      cloud: props.cloud,
      valuesDir: props.valuesDir,
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
    this.logAlertRules = new ConfigMapV1(this, "log-alert-rules", {
      metadata: { name: "log-alert-rules", namespace, labels: { [RULES_LABEL]: "", "app.kubernetes.io/managed-by": "cdktf" } },
      data: { [path.basename(LOG_ALERT_RULES_FILE)]: readFileSync(LOG_ALERT_RULES_FILE, "utf8") },
    });

    // Both Alloy releases ship to Loki once the monitoring stack (their ServiceMonitors' CRD) exists.
    const alloy = (releaseName: string, values: Values): HelmAddon =>
      new HelmAddon(this, releaseName, {
        chart: "alloy",
        releaseName,
        namespace,
        createNamespace: false,
        cloud: props.cloud,
        valuesDir: props.valuesDir,
        dependsOn: [...(props.dependsOn ?? []), props.monitoring],
        values,
      });

    this.collector = alloy("alloy-logs", {
      alloy: {
        configMap: { create: true, content: podLogsConfig(props.environments) },
        // Alloy's data (the read position in each log file) on the node, so a
        // restarted collector resumes where it stopped: neither re-sending
        // what it sent nor skipping what was written meanwhile.
        storagePath: ALLOY_NODE_DATA.mountPath,
        // The node's pod log files.
        mounts: { varlog: true, extra: [{ name: ALLOY_NODE_DATA.volume, mountPath: ALLOY_NODE_DATA.mountPath }] },
        // Root reads the kubelet's 0640 log files; no capability beyond that.
        securityContext: {
          runAsUser: 0,
          runAsNonRoot: false,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: false,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        },
        enableReporting: false,
        resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
      },
      controller: {
        type: "daemonset",
        tolerations: [{ operator: "Exists" }],
        volumes: { extra: [{ name: ALLOY_NODE_DATA.volume, hostPath: { path: ALLOY_NODE_DATA.hostPath, type: "DirectoryOrCreate" } }] },
      },
      serviceMonitor: { enabled: true },
    });

    // Events come from the API server, once for the cluster: one replica, not a DaemonSet.
    this.events = alloy("alloy-events", {
      alloy: {
        configMap: { create: true, content: eventsConfig(props.environments) },
        enableReporting: false,
        resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } },
      },
      controller: { type: "deployment", replicas: 1 },
      serviceMonitor: { enabled: true },
    });

    this.rules = new ManifestsRelease(this, "health-rules", {
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
      dependsOn: [props.monitoring],
    });
  }
}

/** A relabel rule setting `environment`: the namespace's name for environments, `platform` otherwise. */
function environmentRules(sourceLabel: string, environments: string[]): string {
  const names = environments.map((name) => name.replace(/[^a-z0-9-]/g, "")).join("|");
  return `
  rule {
    target_label = "environment"
    replacement  = "${PLATFORM_ENVIRONMENT}"
  }
  rule {
    source_labels = ["${sourceLabel}"]
    regex         = "(${names})"
    target_label  = "environment"
  }`;
}

/**
 * Alloy on each node: the node's pods from the API server, their log files
 * from /var/log/pods, CRI parsing, and the five labels. `app` is the first of
 * app.kubernetes.io/name, the Knative service, the `app` label, the container.
 */
export function podLogsConfig(environments: string[]): string {
  return `// Pods of this node only: each Alloy reads its own node's files.
discovery.kubernetes "pods" {
  role = "pod"
  selectors {
    role  = "pod"
    field = "spec.nodeName=" + sys.env("HOSTNAME")
  }
}

discovery.relabel "pods" {
  targets = discovery.kubernetes.pods.targets
  rule {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_name"]
    target_label  = "pod"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_container_name"]
    target_label  = "container"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_label_app_kubernetes_io_name", "__meta_kubernetes_pod_label_serving_knative_dev_service", "__meta_kubernetes_pod_label_app", "__meta_kubernetes_pod_container_name"]
    separator     = ";"
    regex         = ";*([^;]+).*"
    target_label  = "app"
  }${environmentRules("__meta_kubernetes_namespace", environments)}
  rule {
    source_labels = ["__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"]
    separator     = "/"
    replacement   = "/var/log/pods/*$1/*.log"
    target_label  = "__path__"
  }
}

local.file_match "pods" {
  path_targets = discovery.relabel.pods.output
}

loki.source.file "pods" {
  targets    = local.file_match.pods.targets
  forward_to = [loki.process.pods.receiver]
}

loki.process "pods" {
  stage.cri {}
  // The file name repeats pod and container; it would only multiply streams.
  stage.label_drop {
    values = ["filename"]
  }
  forward_to = [loki.write.loki.receiver]
}

loki.write "loki" {
  endpoint {
    url = "${LOKI_URL}/loki/api/v1/push"
  }
}
`;
}

/** Alloy watching the cluster's events, labelled like pod logs where it can. */
export function eventsConfig(environments: string[]): string {
  return `loki.source.kubernetes_events "cluster" {
  job_name   = "kubernetes-events"
  log_format = "logfmt"
  forward_to = [loki.relabel.events.receiver]
}

loki.relabel "events" {
  forward_to = [loki.write.loki.receiver]
  rule {
    target_label = "app"
    replacement  = "kubernetes-events"
  }${environmentRules("namespace", environments)}
}

loki.write "loki" {
  endpoint {
    url = "${LOKI_URL}/loki/api/v1/push"
  }
}
`;
}
