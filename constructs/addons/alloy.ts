import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { ITerraformDependable } from "cdktf";
import type { Construct } from "constructs";
import { IN_CLUSTER } from "../contract";
import { addonBase, HelmAddon, type AddonOptions } from "./helm-addon";
import { LOKI_URL } from "./loki";
import type { Values } from "./values";

/** Alloy's pipelines, as River files with `{{NAME}}` placeholders. */
export const ALLOY_CONFIG_DIR = path.join(__dirname, "alloy-config");

/** Where the log collector keeps its data: a directory of the node, outliving the pod. */
export const ALLOY_NODE_DATA = { volume: "alloy-data", hostPath: "/var/lib/alloy-logs", mountPath: "/var/lib/alloy" } as const;

/** The labels every log line carries; the rules and the docs rely on them. */
export const LOG_LABELS = ["namespace", "pod", "container", "app", "environment"] as const;
/** `environment` of lines from namespaces that are not an environment's. */
export const PLATFORM_ENVIRONMENT = "platform";

export interface AlloyProps extends AddonOptions {
  /** Environment names, which are also their namespaces. */
  readonly environments: string[];
  /** The release providing the ServiceMonitor CRD. */
  readonly monitoring: ITerraformDependable;
}

/**
 * Alloy, shipping to Loki: on every node the pods' log lines (`alloy-logs`),
 * and once for the cluster its events (`alloy-events`).
 *
 * Made in `scope` (the logs add-on), whose construct ids the releases keep.
 */
export function alloyReleases(scope: Construct, props: AlloyProps): { collector: HelmAddon; events: HelmAddon } {
  const namespace = IN_CLUSTER.logs.namespace;
  // Both Alloy releases ship to Loki once the monitoring stack (their ServiceMonitors' CRD) exists.
  const alloy = (releaseName: string, values: Values): HelmAddon =>
    new HelmAddon(scope, releaseName, {
      chart: "alloy",
      releaseName,
      namespace,
      createNamespace: false,
      ...addonBase(props),
      dependsOn: [...(props.dependsOn ?? []), props.monitoring],
      values,
    });

  const collector = alloy("alloy-logs", {
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
  const events = alloy("alloy-events", {
    alloy: {
      configMap: { create: true, content: eventsConfig(props.environments) },
      enableReporting: false,
      resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } },
    },
    controller: { type: "deployment", replicas: 1 },
    serviceMonitor: { enabled: true },
  });
  return { collector, events };
}

/**
 * A River file of ALLOY_CONFIG_DIR with its placeholders filled; a
 * placeholder without a value, or a value without a placeholder, fails the synth.
 */
export function riverConfig(file: string, values: Record<string, string>): string {
  let text = readFileSync(path.join(ALLOY_CONFIG_DIR, file), "utf8");
  for (const [name, value] of Object.entries(values)) {
    const placeholder = `{{${name}}}`;
    if (!text.includes(placeholder)) throw new Error(`${file}: no placeholder ${placeholder}`);
    text = text.split(placeholder).join(value);
  }
  const left = text.match(/\{\{\w+\}\}/);
  if (left) throw new Error(`${file}: no value for ${left[0]}`);
  return text;
}

/** A relabel rule setting `environment`: the namespace's name for environments, `platform` otherwise. */
function environmentRules(sourceLabel: string, environments: string[]): string {
  const names = environments.map((name) => name.replace(/[^a-z0-9-]/g, "")).join("|");
  return `  rule {
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
  return riverConfig("pod-logs.alloy", { ENVIRONMENT_RULES: environmentRules("__meta_kubernetes_namespace", environments), LOKI_URL });
}

/** Alloy watching the cluster's events, labelled like pod logs where it can. */
export function eventsConfig(environments: string[]): string {
  return riverConfig("events.alloy", { ENVIRONMENT_RULES: environmentRules("namespace", environments), LOKI_URL });
}
