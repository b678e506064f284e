import type { Construct } from "constructs";
import { addonBase, HelmAddon, type AddonOptions } from "./helm-addon";

export interface MetricsServerProps extends AddonOptions {
}

/** The taint Kubernetes reserves for nodes of cluster-critical add-ons. */
export const CRITICAL_ADDONS_ONLY = "CriticalAddonsOnly";

/**
 * metrics-server, for clouds that do not serve the resource metrics API
 * themselves: HorizontalPodAutoscalers and `kubectl top` read it. It is
 * cluster-critical, so it tolerates the critical-add-ons taint and keeps a
 * second replica in another zone through node drains.
 */
export class MetricsServerAddon extends HelmAddon {
  constructor(scope: Construct, id: string, props: MetricsServerProps) {
    const selector = { matchLabels: { "app.kubernetes.io/name": "metrics-server", "app.kubernetes.io/instance": "metrics-server" } };
    super(scope, id, {
      ...addonBase(props),
      dependsOn: props.dependsOn,
      chart: "metrics-server",
      releaseName: "metrics-server",
      namespace: "kube-system",
      values: {
        replicas: 2,
        resources: { requests: { cpu: "100m", memory: "200Mi" }, limits: { memory: "400Mi" } },
        podDisruptionBudget: { enabled: true, minAvailable: 1 },
        tolerations: [{ key: CRITICAL_ADDONS_ONLY, operator: "Exists" }],
        topologySpreadConstraints: [
          { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: selector },
          { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: selector },
        ],
      },
    });
  }
}
