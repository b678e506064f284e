import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { listItems, serviceProxyPath, type KubernetesReader } from "../kubernetes";
import { NAMES } from "../names";
import { fail, ok, warn, type Finding } from "../report";
import { describeError } from "../timeout";
import { duration, hoursBetween, some, type Check } from "./context";

const { monitoring } = NAMES;

const prometheus = (kube: KubernetesReader, apiPath: string) =>
  kube.get(serviceProxyPath(monitoring.namespace, monitoring.prometheus.service, monitoring.prometheus.port, apiPath)) as Promise<any>;
const alertmanager = (kube: KubernetesReader, apiPath: string) =>
  kube.get(serviceProxyPath(monitoring.namespace, monitoring.alertmanager.service, monitoring.alertmanager.port, apiPath)) as Promise<any>;
const loki = (kube: KubernetesReader, apiPath: string) => kube.get(serviceProxyPath(monitoring.namespace, monitoring.loki.service, monitoring.loki.port, apiPath)) as Promise<any>;

/** Prometheus Operator names a monitor's scrape pools `serviceMonitor/<ns>/<name>/<endpoint>` and `podMonitor/<ns>/<name>/<endpoint>`. */
const poolPrefix = (kind: "serviceMonitor" | "podMonitor", monitor: any): string => `${kind}/${monitor.metadata.namespace}/${monitor.metadata.name}/`;

/** The ports a monitor's endpoints select: what to compare with the Service or Pod when it finds nothing. */
const endpointPorts = (kind: "serviceMonitor" | "podMonitor", monitor: any): string[] =>
  ((kind === "serviceMonitor" ? monitor.spec?.endpoints : monitor.spec?.podMetricsEndpoints) ?? []).map((e: any) => String(e.port ?? e.targetPort ?? "?"));

const targets: Check = {
  component: "monitoring",
  name: "scrape targets",
  kubernetes: true,
  async run({ kube }) {
    const [answer, serviceMonitors, podMonitors] = await Promise.all([
      prometheus(kube, "/api/v1/targets?state=active"),
      listItems(kube, "/apis/monitoring.coreos.com/v1/servicemonitors"),
      listItems(kube, "/apis/monitoring.coreos.com/v1/podmonitors"),
    ]);
    const active: any[] = answer?.data?.activeTargets ?? [];
    const findings: Finding[] = [];
    let healthy = 0;
    const monitors = [...serviceMonitors.map((m) => ["serviceMonitor", m] as const), ...podMonitors.map((m) => ["podMonitor", m] as const)];
    for (const [kind, monitor] of monitors) {
      const name = `${kind === "serviceMonitor" ? "ServiceMonitor" : "PodMonitor"} ${monitor.metadata.namespace}/${monitor.metadata.name}`;
      const mine = active.filter((t) => String(t.scrapePool ?? "").startsWith(poolPrefix(kind, monitor)));
      const up = mine.filter((t) => t.health === "up");
      const down = mine.filter((t) => t.health !== "up");
      if (mine.length === 0) {
        if ((monitoring.scaleToZeroMonitors as readonly string[]).includes(monitor.metadata.name)) {
          healthy++;
          continue;
        }
        findings.push(fail("monitoring", `targets of ${name}`, `no target: its selector or its endpoints' port (${endpointPorts(kind, monitor).join(", ")}) matches nothing`, "compare the monitor's selector and port name with the Service or Pod it should scrape; alerts on its metrics can never fire"));
      } else if (up.length === 0) {
        findings.push(fail("monitoring", `targets of ${name}`, `${down.length} targets, none up: ${String(down[0].lastError ?? down[0].health).slice(0, 160)}`, "kubectl get pods in that namespace; a network policy or a wrong port/path"));
      } else if (down.length > 0) {
        findings.push(warn("monitoring", `targets of ${name}`, `${up.length} up, ${down.length} down: ${some(down.map((t) => `${t.labels?.instance ?? t.scrapeUrl} (${String(t.lastError ?? "").slice(0, 80)})`), 2)}`, "kubectl get pods in that namespace: crash-looping or being replaced"));
      } else {
        healthy++;
      }
    }
    const upTotal = active.filter((t) => t.health === "up").length;
    findings.push(ok("monitoring", "scrape targets", `${healthy}/${monitors.length} monitors with every target up; ${upTotal}/${active.length} targets up`));
    return findings;
  },
};

const rules: Check = {
  component: "monitoring",
  name: "rules loaded",
  kubernetes: true,
  async run({ kube }) {
    const [answer, prometheusRules] = await Promise.all([prometheus(kube, "/api/v1/rules"), listItems(kube, "/apis/monitoring.coreos.com/v1/prometheusrules")]);
    const groups: any[] = answer?.data?.groups ?? [];
    const loaded = new Set(groups.map((g) => g.name));
    const missing = prometheusRules.flatMap((rule) => (rule.spec?.groups ?? []).filter((g: any) => !loaded.has(g.name)).map((g: any) => `${rule.metadata.namespace}/${rule.metadata.name}: ${g.name}`));
    const broken = groups.flatMap((g) => (g.rules ?? []).filter((r: any) => r.health === "err").map((r: any) => `${r.name}: ${String(r.lastError ?? "").slice(0, 120)}`));
    const count = groups.reduce((n, g) => n + (g.rules?.length ?? 0), 0);
    if (missing.length > 0) return [fail("monitoring", "rules loaded", `not loaded: ${some(missing, 3)}`, "kubectl -n monitoring logs deploy/kube-prometheus-stack-operator: a rule the operator rejected, or a selector that leaves it out")];
    if (broken.length > 0) return [fail("monitoring", "rules loaded", `${broken.length} rules fail to evaluate: ${some(broken, 2)}`, "fix the expression; promtool check rules")];
    return [ok("monitoring", "rules loaded", `${groups.length} groups, ${count} rules, none failing`)];
  },
};

const alertmanagerReachable: Check = {
  component: "monitoring",
  name: "Alertmanager",
  kubernetes: true,
  async run({ kube }) {
    const [status, discovered] = await Promise.all([alertmanager(kube, "/api/v2/status"), prometheus(kube, "/api/v1/alertmanagers")]);
    const active = discovered?.data?.activeAlertmanagers?.length ?? 0;
    const cluster = status?.cluster?.status ?? "unknown";
    const version = status?.versionInfo?.version ?? "?";
    if (active === 0) return [fail("monitoring", "Alertmanager", `answers (${version}, cluster ${cluster}) but Prometheus sends alerts to no Alertmanager`, "kubectl -n monitoring get prometheus -o yaml: spec.alerting")];
    if (cluster !== "ready" && cluster !== "disabled") return [warn("monitoring", "Alertmanager", `cluster ${cluster}`, "kubectl -n monitoring logs alertmanager-kube-prometheus-stack-alertmanager-0")];
    return [ok("monitoring", "Alertmanager", `v${version.replace(/^v/, "")} answers; Prometheus sends to ${active}`)];
  },
};

const heartbeat: Check = {
  component: "monitoring",
  name: "heartbeat",
  kubernetes: false,
  async run({ probe, kube, heartbeatMinutes, now }) {
    const check = "heartbeat";
    const state = await probe.heartbeat(heartbeatMinutes);
    if (state.received) {
      const last = state.lastAt ? `, last ${duration(hoursBetween(now, state.lastAt))} ago` : "";
      return [ok("monitoring", check, `${state.measured} in ${state.windowMinutes} min${last} (${state.source})`)];
    }
    // Whether the Watchdog fires at all tells Prometheus apart from the delivery path.
    let watchdog = "";
    try {
      const alerts: any[] = await alertmanager(kube, `/api/v2/alerts?filter=${encodeURIComponent('alertname="Watchdog"')}`);
      watchdog = alerts.length > 0 ? "; the Watchdog fires in Alertmanager, so its delivery fails" : "; no Watchdog in Alertmanager: Prometheus does not evaluate or send it";
    } catch (error) {
      watchdog = `; Alertmanager not readable (${describeError(error)})`;
    }
    const alarm = state.alarmState ? ` (alarm ${state.alarmState})` : "";
    return [
      fail(
        "monitoring",
        check,
        `stale: ${state.measured} in the last ${state.windowMinutes} min${alarm}${watchdog}; ${state.source}`,
        "kubectl -n monitoring logs alertmanager-kube-prometheus-stack-alertmanager-0 | grep -i heartbeat: the receiver's identity, topic or key policy (docs/alerting.md)",
      ),
    ];
  },
};

/** The rule groups the Loki ruler should hold: those of the log alert rule file the add-ons stack ships. */
export function logRuleGroups(projectRoot: string): string[] {
  const file = path.join(projectRoot, "alert-rules", "application-logs.loki.yaml");
  const parsed = parseYaml(readFileSync(file, "utf8")) as { groups?: { name: string }[] };
  return (parsed.groups ?? []).map((g) => g.name);
}

const lokiIngesting: Check = {
  component: "monitoring",
  name: "Loki",
  kubernetes: true,
  async run({ kube, projectRoot }) {
    const findings: Finding[] = [];
    const query = encodeURIComponent('sum(count_over_time({namespace=~".+"}[10m]))');
    const answer = await loki(kube, `/loki/api/v1/query?query=${query}`);
    const lines = Number(answer?.data?.result?.[0]?.value?.[1] ?? 0);
    findings.push(
      lines > 0
        ? ok("monitoring", "Loki ingesting", `${lines} lines in the last 10 min`)
        : fail("monitoring", "Loki ingesting", "no log line stored in the last 10 min", "kubectl -n monitoring logs ds/alloy-logs and statefulset/loki: push errors, object storage access"),
    );
    const wanted = logRuleGroups(projectRoot);
    const loaded = new Set(((await loki(kube, "/prometheus/api/v1/rules"))?.data?.groups ?? []).map((g: any) => g.name));
    const missing = wanted.filter((g) => !loaded.has(g));
    findings.push(
      missing.length === 0
        ? ok("monitoring", "Loki ruler", `${wanted.length} log alert groups loaded`)
        : fail("monitoring", "Loki ruler", `not loaded: ${some(missing)}`, "kubectl -n monitoring logs statefulset/loki -c loki-sc-rules and the ruler's log"),
    );
    return findings;
  },
};

export const MONITORING_CHECKS: readonly Check[] = [targets, rules, alertmanagerReachable, heartbeat, lokiIngesting];
