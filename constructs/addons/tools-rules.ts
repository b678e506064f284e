import { runbookUrl } from "../common/runbook";
import { IN_CLUSTER } from "../contract";
import type { AlertRule, RuleGroup } from "./alert-rules";
import { CENTRAL_GRAFANA_RELEASE, CLUSTER_MONITORING_JOB } from "./central-grafana";
import { MONITORING_NAMESPACE } from "./monitoring";

// `absent()` of a comparison keeps no label: the namespace is the rule's own.
const rule = (alert: string, namespace: string, expr: string, forDuration: string, summary: string, description: string): AlertRule => ({
  alert,
  expr,
  for: forDuration,
  labels: { severity: "warning", environment: "platform", namespace },
  annotations: { summary, description, runbook_url: runbookUrl(alert) },
});

/**
 * What a tools cluster watches on itself beyond every cluster's rules: the
 * runners' controller and listener, without which jobs queue for ever, and
 * the central Grafana and its way to every other cluster's data. `absent(... == 1)` fires as well when the series are
 * gone altogether (the workload deleted, the target no longer scraped).
 */
export function toolsClusterRules(): RuleGroup {
  const arc = IN_CLUSTER.ciRunners.controllerNamespace;
  return {
    name: "platform-tools",
    concern: "The tools cluster's own services: the CI runners' controller and listener, the central Grafana and its data sources in the other clusters",
    rules: [
      rule(
        "CiRunnerControllerDown",
        arc,
        `absent(kube_deployment_status_replicas_available{namespace="${arc}"} >= 1)`,
        "10m",
        "The CI runners' controller has no available replica",
        `actions-runner-controller in ${arc} has had no available replica for 10 minutes; no runner pod is created for queued jobs.`,
      ),
      rule(
        "CiRunnerListenerDown",
        arc,
        // The controller names each scale set's listener pod `<scale set>-<hash>-listener`.
        `absent(kube_pod_status_ready{namespace="${arc}", pod=~".+-listener", condition="true"} == 1)`,
        "15m",
        "No CI runner scale set listener is ready",
        `No listener pod in ${arc} has been ready for 15 minutes: the scale set takes no job from GitHub and the workflows that run on it wait in the queue.`,
      ),
      rule(
        "CiRunnerJobsWaiting",
        arc,
        // The listeners' gauges, per scale set: jobs GitHub assigned to it that no runner runs.
        "sum by (name) (gha_assigned_jobs) - sum by (name) (gha_running_jobs) > 0",
        "20m",
        "CI jobs wait for a runner",
        "{{ $value }} job(s) assigned to scale set {{ $labels.name }} have had no running runner for 20 minutes: runner pods do not start (image pull, quota, node capacity, the runner identity) or do not register with GitHub.",
      ),
      rule(
        "CentralGrafanaDown",
        MONITORING_NAMESPACE,
        `absent(up{job="${CENTRAL_GRAFANA_RELEASE}", namespace="${MONITORING_NAMESPACE}"} == 1)`,
        "10m",
        "The central Grafana is down",
        `Prometheus has not scraped ${CENTRAL_GRAFANA_RELEASE} in ${MONITORING_NAMESPACE} for 10 minutes: the one place to look at every cluster is gone; each cluster's own Grafana still answers.`,
      ),
      rule(
        "ClusterMonitoringUnreachable",
        MONITORING_NAMESPACE,
        `up{job="${CLUSTER_MONITORING_JOB}"} == 0`,
        "10m",
        "A cluster's Prometheus or Loki does not answer the tools cluster",
        // That cluster's Watchdog still reaches its own dead man's switch: the path or the service is down, not always the cluster.
        `{{ $labels.instance }} of cluster {{ $labels.target_cluster }} has not answered the tools cluster for 10 minutes: the central Grafana's data source of that cluster fails. Check the cluster's internal load balancer, the private zone record and the network peering (docs/topology.md).`,
      ),
    ],
  };
}
