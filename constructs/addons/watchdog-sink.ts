import type { Construct } from "constructs";
import { IN_CLUSTER } from "../contract";
import { addonBase, HelmAddon, type AddonOptions } from "./helm-addon";

/** The port the sink listens on for Alertmanager. */
export const WATCHDOG_SINK_PORT = 8080;
/** Alloy's `loki.source.api` route that takes plain text, one log entry per line. */
export const WATCHDOG_SINK_PATH = "/loki/api/v1/raw";

/** The Alertmanager receiver (without its name) that delivers the Watchdog to the sink. */
export function watchdogSinkReceiver(): Record<string, unknown> {
  const { name, namespace } = IN_CLUSTER.watchdogSink;
  return { webhook_configs: [{ url: `http://${name}.${namespace}.svc.cluster.local:${WATCHDOG_SINK_PORT}${WATCHDOG_SINK_PATH}`, send_resolved: false }] };
}

/**
 * The sink's pipeline: Alertmanager's webhook body becomes a log entry, and
 * `loki.echo` writes it to the container's log, as a line naming the
 * component (`component_id=loki.echo.watchdog`) and holding the body.
 */
export function watchdogSinkConfig(): string {
  const component = IN_CLUSTER.watchdogSink.logMarker.split(".").pop();
  return `loki.source.api "${component}" {
  http {
    listen_address = "0.0.0.0"
    listen_port    = ${WATCHDOG_SINK_PORT}
  }
  forward_to = [loki.echo.${component}.receiver]
}

loki.echo "${component}" { }
`;
}

/**
 * Where Alertmanager delivers the Watchdog when the cloud watches the
 * cluster's container logs rather than a receiver of its own (Azure's
 * Container Insights): one Alloy, from the chart the log collectors use, that
 * logs a line for each Watchdog. The cloud alerts when those lines stop:
 * Prometheus stopped evaluating, Alertmanager stopped notifying, or the
 * cluster stopped reporting.
 */
export class WatchdogSink extends HelmAddon {
  constructor(scope: Construct, id: string, props: AddonOptions) {
    super(scope, id, {
      ...addonBase(props),
      dependsOn: props.dependsOn,
      chart: "alloy",
      releaseName: IN_CLUSTER.watchdogSink.name,
      namespace: IN_CLUSTER.watchdogSink.namespace,
      createNamespace: false,
      values: {
        alloy: {
          configMap: { create: true, content: watchdogSinkConfig() },
          extraPorts: [{ name: "watchdog", port: WATCHDOG_SINK_PORT, targetPort: WATCHDOG_SINK_PORT, protocol: "TCP" }],
          enableReporting: false,
          // The image's own unprivileged user; it needs no file outside /tmp.
          securityContext: {
            runAsUser: 473,
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
          },
          resources: { requests: { cpu: "5m", memory: "48Mi" }, limits: { memory: "128Mi" } },
        },
        controller: { type: "deployment", replicas: 1 },
        // It reads nothing from the API server, and the log collectors' releases own the CRDs.
        rbac: { create: false },
        crds: { create: false },
      },
    });
  }
}
