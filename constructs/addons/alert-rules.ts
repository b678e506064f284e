import type { Stage } from "../../config/common";
import { runbookUrl } from "../common/runbook";
import { IN_CLUSTER } from "../contract";
import type { KubernetesObject } from "../kubernetes/manifests-release";
import { STAGE_SETTINGS } from "../../config/stages";

/**
 * The platform's Prometheus alert rules, generated from config so that every
 * environment carries its own thresholds and severities. docs/alerting.md has
 * a runbook entry per alert; a test keeps the two in step.
 */

/** Label a Job or a Pod carries when it runs database migrations. */
export const MIGRATION_COMPONENT_LABEL = { key: "app.kubernetes.io/component", value: "migration" } as const;

/** Prefix of the kube-state-metrics metrics describing the platform's custom resources. */
export const RESOURCE_METRIC = "platform_resource_info";

/** Jobs the scrape configuration gives Knative's metrics (see knative-monitoring). */
export const QUEUE_PROXY_JOB = "knative-queue-proxy";
export const ACTIVATOR_JOB = "knative-activator";
/** Kourier's Envoy gateway, which answers every request to a Knative route. */
export const GATEWAY_JOB = "knative-kourier-gateway";
/** The External Secrets controller. */
export const EXTERNAL_SECRETS_JOB = "external-secrets";
/**
 * Envoy's answers per upstream cluster and status class: Kourier names a
 * cluster `<namespace>/<revision>`, and the count includes the answers Envoy
 * makes itself (no healthy upstream, connection failures, timeouts).
 */
export const GATEWAY_REQUESTS = "envoy_cluster_upstream_rq_xx";
/** Label the scrape copies the pod's `serving.knative.dev/service` label into. */
export const KNATIVE_SERVICE_LABEL = "knative_service";

/**
 * The request counter of Knative's queue-proxy: since Serving 1.20 it exports
 * OpenTelemetry's HTTP server metrics, the count being the histogram's `_count`.
 */
export const REQUEST_COUNT = "http_server_request_duration_seconds_count";
export const REQUEST_DURATION_BUCKET = "http_server_request_duration_seconds_bucket";

/**
 * The namespaces of the platform's components that Prometheus scrapes, for
 * PlatformTargetDown: a namespace nothing scrapes has no `up` series and
 * could never alert. The Knative operator installs Kourier into
 * knative-serving; the operator itself is watched by the chart's workload
 * alerts (KubeDeploymentReplicasMismatch, KubePodCrashLooping).
 */
export const PLATFORM_NAMESPACES = [
  IN_CLUSTER.flux.namespace,
  IN_CLUSTER.externalSecrets.namespace,
  IN_CLUSTER.certManager.namespace,
  "knative-serving",
  "monitoring",
] as const;

export interface AlertEnvironment {
  readonly name: string;
  readonly stage: Stage;
  readonly alerts: { readonly errorRatio: number; readonly migrationTimeoutMinutes: number };
}

export interface NodeThresholds {
  readonly cpuPercent: number;
  readonly memoryAvailablePercent: number;
  readonly diskAvailablePercent: number;
}

export interface AlertRulesInput {
  readonly environments: readonly AlertEnvironment[];
  readonly node: NodeThresholds;
  /**
   * The namespaces of the webhook proxy and of the registry webhook Jobs,
   * when `gitops.receivers` is on.
   * @default - no webhook rules
   */
  readonly webhooks?: { readonly proxyNamespace: string; readonly jobNamespace?: string };
}

export type Severity = "critical" | "warning";

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: { readonly severity: Severity; readonly [label: string]: string };
  readonly annotations: { readonly summary: string; readonly description: string; readonly runbook_url: string };
}

export interface RuleGroup {
  readonly name: string;
  /** What the group watches, for the docs. */
  readonly concern: string;
  readonly rules: AlertRule[];
}

export { runbookUrl };

const rule = (alert: string, props: Omit<AlertRule, "alert" | "annotations"> & { summary: string; description: string }): AlertRule => ({
  alert,
  expr: props.expr,
  ...(props.for ? { for: props.for } : {}),
  labels: props.labels,
  annotations: { summary: props.summary, description: props.description, runbook_url: runbookUrl(alert) },
});

/** As the stage decides: production pages; everywhere else a problem is worth a mail, not a wake-up. */
const severityOf = (environment: AlertEnvironment): Severity => STAGE_SETTINGS[environment.stage].alertSeverity;

/**
 * Requests in the 5-minute window below which a service's 5xx share does not
 * alert: 1 error in 2 requests is 50%, and says nothing.
 */
export const MIN_REQUESTS_PER_WINDOW = 20;

/**
 * The 5xx share of one environment's requests per Knative service, as each
 * of the three places that answer them counts it: the queue-proxy beside the
 * application (what the application answered), the activator (which holds
 * requests while a service scales from zero, and answers 5xx when it cannot
 * start it), and the Kourier gateway (which answers 5xx itself when no
 * upstream is healthy, a connection fails or times out). A request the
 * activator or the gateway passes on is counted again downstream, so the
 * shares are not added: the largest one decides. Each counts only where it
 * saw at least MIN_REQUESTS_PER_WINDOW requests.
 */
export function errorShareExpression(environment: string): string {
  const by = `by (namespace, ${KNATIVE_SERVICE_LABEL})`;
  const minRate = `(${MIN_REQUESTS_PER_WINDOW} / 300)`;
  const share = (answeredBy: string, errors: string, all: string) =>
    `    label_replace(\n      sum ${by} (${errors})\n        / (sum ${by} (${all}) >= ${minRate}),\n      "answered_by", "${answeredBy}", "", "")`;
  /** Sets `namespace` and the service label from labels a series carries under other names. */
  const relabel = (expr: string, [namespaceFrom, namespaceRegex]: [string, string], [serviceFrom, serviceRegex]: [string, string]) =>
    `label_replace(label_replace(${expr}, "namespace", "$1", "${namespaceFrom}", "${namespaceRegex}"), "${KNATIVE_SERVICE_LABEL}", "$1", "${serviceFrom}", "${serviceRegex}")`;
  const application = (code: string) => `rate(${REQUEST_COUNT}{job="${QUEUE_PROXY_JOB}", namespace="${environment}"${code}}[5m])`;
  // The activator labels each request with the revision's namespace and service.
  const activator = (code: string) =>
    relabel(`rate(${REQUEST_COUNT}{job="${ACTIVATOR_JOB}", k8s_namespace_name="${environment}"${code}}[5m])`, ["k8s_namespace_name", "(.*)"], ["kn_service_name", "(.*)"]);
  // Kourier names a cluster <namespace>/<revision>, and a revision <service>-<generation>.
  const gateway = (code: string) =>
    relabel(`rate(${GATEWAY_REQUESTS}{job="${GATEWAY_JOB}", envoy_cluster_name=~"${environment}/.+"${code}}[5m])`, ["envoy_cluster_name", "([^/]+)/.*"], ["envoy_cluster_name", "[^/]+/(.+)-[0-9]+"]);
  return [
    `max ${by} (`,
    share("application", application(', http_response_status_code=~"5.."'), application("")),
    "  or",
    share("activator", activator(', http_response_status_code=~"5.."'), activator("")),
    "  or",
    share("gateway", gateway(', envoy_response_code_class="5"'), gateway("")),
    ")",
  ].join("\n");
}

function applicationErrors(environments: readonly AlertEnvironment[]): RuleGroup {
  return {
    name: "platform-application-errors",
    concern: "HTTP 5xx answers to the applications' requests: from the application (queue-proxy), the activator and the Kourier gateway",
    rules: environments.map((environment) => {
      const ratio = environment.alerts.errorRatio;
      return rule("ApplicationErrorRatioHigh", {
        expr: `${errorShareExpression(environment.name)}\n  > ${ratio}`,
        for: "5m",
        labels: { severity: severityOf(environment), environment: environment.name },
        summary: `{{ $labels.${KNATIVE_SERVICE_LABEL} }} in ${environment.name} answers 5xx to {{ $value | humanizePercentage }} of requests`,
        description: `More than ${ratio * 100}% of the requests to {{ $labels.${KNATIVE_SERVICE_LABEL} }} in ${environment.name} (at least ${MIN_REQUESTS_PER_WINDOW} in 5 minutes) ended in a 5xx answer for 5 minutes, from the application, the activator or the gateway.`,
      });
    }),
  };
}

function nodes(node: NodeThresholds): RuleGroup {
  const rootFilesystem = `mountpoint="/", fstype!~"tmpfs|overlay|squashfs"`;
  return {
    name: "platform-nodes",
    concern: "Each node's CPU, memory and root filesystem",
    rules: [
      rule("NodeCpuFull", {
        expr: `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))) > ${node.cpuPercent}`,
        for: "15m",
        labels: { severity: "warning", environment: "platform" },
        summary: "Node {{ $labels.instance }} CPU is {{ $value | humanize }}% busy",
        description: `The CPUs of {{ $labels.instance }} have been more than ${node.cpuPercent}% busy for 15 minutes.`,
      }),
      rule("NodeMemoryFull", {
        expr: `100 * node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < ${node.memoryAvailablePercent}`,
        for: "10m",
        labels: { severity: "critical", environment: "platform" },
        summary: "Node {{ $labels.instance }} has {{ $value | humanize }}% of its memory available",
        description: `Less than ${node.memoryAvailablePercent}% of the memory of {{ $labels.instance }} has been available for 10 minutes; the kernel will start killing processes.`,
      }),
      rule("NodeRootFilesystemFull", {
        expr: `100 * node_filesystem_avail_bytes{${rootFilesystem}} / node_filesystem_size_bytes{${rootFilesystem}} < ${node.diskAvailablePercent}`,
        for: "10m",
        labels: { severity: "warning", environment: "platform" },
        summary: "Node {{ $labels.instance }} root filesystem has {{ $value | humanize }}% space left",
        description: `Less than ${node.diskAvailablePercent}% of the root filesystem of {{ $labels.instance }} is free; the kubelet will evict pods when it fills.`,
      }),
    ],
  };
}

function workloads(environments: readonly AlertEnvironment[]): RuleGroup {
  const migration = `label_${MIGRATION_COMPONENT_LABEL.key.replace(/[./-]/g, "_")}="${MIGRATION_COMPONENT_LABEL.value}"`;
  return {
    name: "platform-workloads",
    concern: "Crash-looping containers and stuck or failed database migrations in the environments",
    rules: environments.flatMap((environment) => {
      const ns = `namespace="${environment.name}"`;
      const minutes = environment.alerts.migrationTimeoutMinutes;
      const labels = { severity: severityOf(environment), environment: environment.name };
      return [
        rule("PodCrashLooping", {
          expr: `max_over_time(kube_pod_container_status_waiting_reason{${ns}, reason="CrashLoopBackOff"}[5m]) >= 1`,
          for: "10m",
          labels,
          summary: "{{ $labels.pod }} in " + environment.name + " is crash-looping",
          description: "Container {{ $labels.container }} of {{ $labels.pod }} in " + environment.name + " has been restarting in CrashLoopBackOff for 10 minutes.",
        }),
        rule("MigrationJobStuck", {
          expr:
            `(time() - kube_job_status_start_time{${ns}}) > ${minutes * 60}\n` +
            `  and on (namespace, job_name) kube_job_status_active{${ns}} > 0\n` +
            `  and on (namespace, job_name) kube_job_labels{${ns}, ${migration}}`,
          labels,
          summary: `Migration job {{ $labels.job_name }} in ${environment.name} has run more than ${minutes} minutes`,
          description: `The migration Job {{ $labels.job_name }} in ${environment.name} started more than ${minutes} minutes ago and is still running; a lock or a long migration is blocking the rollout.`,
        }),
        rule("MigrationJobFailed", {
          // The Job's Failed condition: set once its retries are spent. A
          // failed pod alone is not a failure: a Job that succeeds on a retry
          // keeps counting it in kube_job_status_failed.
          expr: `kube_job_failed{${ns}, condition="true"} == 1\n  and on (namespace, job_name) kube_job_labels{${ns}, ${migration}}`,
          labels,
          summary: `Migration job {{ $labels.job_name }} in ${environment.name} failed`,
          description: `The migration Job {{ $labels.job_name }} in ${environment.name} has failed for good (its retries are spent); the new release waits for a schema it does not have.`,
        }),
        rule("MigrationInitContainerStuck", {
          expr:
            `max by (namespace, pod, container) (kube_pod_init_container_status_running{${ns}}) == 1\n` +
            `  and on (namespace, pod) kube_pod_labels{${ns}, ${migration}}`,
          for: `${minutes}m`,
          labels,
          summary: `Migration init container of {{ $labels.pod }} in ${environment.name} has run more than ${minutes} minutes`,
          description: `Init container {{ $labels.container }} of {{ $labels.pod }} in ${environment.name}, labelled as a migration, has been running for ${minutes} minutes.`,
        }),
        rule("MigrationInitContainerFailing", {
          expr:
            `max by (namespace, pod, container) (kube_pod_init_container_status_waiting_reason{${ns}, reason="CrashLoopBackOff"}) == 1\n` +
            `  and on (namespace, pod) kube_pod_labels{${ns}, ${migration}}`,
          for: "5m",
          labels,
          summary: `Migration init container of {{ $labels.pod }} in ${environment.name} keeps failing`,
          description: `Init container {{ $labels.container }} of {{ $labels.pod }} in ${environment.name}, labelled as a migration, is in CrashLoopBackOff.`,
        }),
      ];
    }),
  };
}

function platformHealth(): RuleGroup {
  const notReady = (groups: string, kind?: string) =>
    `${RESOURCE_METRIC}{customresource_group=~"${groups}"${kind ? `, customresource_kind="${kind}"` : ""}, ready="False"} == 1`;
  const labels = { severity: "warning" as const, environment: "platform" };
  return {
    name: "platform-health",
    concern: "The platform's own components: Flux, External Secrets, Knative and the scrape targets",
    rules: [
      rule("FluxResourceNotReady", {
        expr: notReady(".*\\\\.toolkit\\\\.fluxcd\\\\.io"),
        for: "15m",
        labels,
        summary: "Flux {{ $labels.customresource_kind }} {{ $labels.exported_namespace }}/{{ $labels.name }} is not Ready",
        description: "The Flux {{ $labels.customresource_kind }} {{ $labels.exported_namespace }}/{{ $labels.name }} has not been Ready for 15 minutes; changes to the GitOps repository do not reach the cluster.",
      }),
      rule("FluxInstanceNotReady", {
        expr: notReady("fluxcd\\\\.controlplane\\\\.io", "FluxInstance"),
        for: "15m",
        labels,
        summary: "FluxInstance {{ $labels.exported_namespace }}/{{ $labels.name }} is not Ready",
        description: "The Flux Operator has not installed or upgraded Flux as the FluxInstance {{ $labels.exported_namespace }}/{{ $labels.name }} asks for 15 minutes; Flux may be down or on its previous version.",
      }),
      rule("ExternalSecretNotSynced", {
        expr: notReady("external-secrets\\\\.io", "ExternalSecret"),
        for: "15m",
        labels,
        summary: "ExternalSecret {{ $labels.exported_namespace }}/{{ $labels.name }} is not synced",
        description: "The ExternalSecret {{ $labels.exported_namespace }}/{{ $labels.name }} has not been Ready for 15 minutes; its Secret holds stale values or does not exist.",
      }),
      rule("KnativeRevisionNotReady", {
        expr: notReady("serving\\\\.knative\\\\.dev", "Revision"),
        for: "15m",
        labels,
        summary: "Knative revision {{ $labels.exported_namespace }}/{{ $labels.name }} is not Ready",
        description: "The Knative Revision {{ $labels.exported_namespace }}/{{ $labels.name }} has not been Ready for 15 minutes; its service keeps serving the previous revision, or nothing.",
      }),
      rule("PlatformTargetDown", {
        expr: `up{namespace=~"${PLATFORM_NAMESPACES.join("|")}"} == 0`,
        for: "10m",
        labels,
        summary: "Scrape target {{ $labels.job }} ({{ $labels.instance }}) is down",
        description: "Prometheus has not scraped {{ $labels.job }} at {{ $labels.instance }} in {{ $labels.namespace }} for 10 minutes; its alerts cannot fire.",
      }),
    ],
  };
}

/** Answers of the webhook proxy that are not a delivery Flux refused: its own refusals of anything but a hook (403), too large a body (413) and its rate limit (429). */
export const PROXY_OWN_REFUSALS = ["403", "413", "429"] as const;

/**
 * Pushes whose reconcile never follows: a delivery the notification-controller
 * refuses (no Receiver at that path: a URL left from before `tokenVersion`
 * was raised; a failed signature: a stale GitHub secret; a 5xx) reconciles
 * nothing, and the change waits for the next poll. The proxy's queue-proxy
 * counts the answers; the proxy answers everything but a well-formed hook
 * itself, with codes left out here. And the registry's side: the hourly Job
 * that points the registry's webhook at the Receiver has not succeeded for
 * three hours, or never since it was created.
 */
function webhookDeliveries(webhooks: NonNullable<AlertRulesInput["webhooks"]>): RuleGroup {
  const labels = { severity: "warning" as const, environment: "platform" };
  const answers = `${REQUEST_COUNT}{job="${QUEUE_PROXY_JOB}", namespace="${webhooks.proxyNamespace}"`;
  const hours = 3;
  const jobs = webhooks.jobNamespace && `namespace="${webhooks.jobNamespace}"`;
  return {
    name: "platform-webhooks",
    concern: "Webhook deliveries Flux refuses, and the Jobs that point the registry's webhooks at the Receivers",
    rules: [
      rule("WebhookDeliveriesRejected", {
        expr: `sum(increase(${answers}, http_response_status_code=~"[45]..", http_response_status_code!~"${PROXY_OWN_REFUSALS.join("|")}"}[30m])) >= 1`,
        for: "5m",
        labels,
        summary: "Webhook deliveries are refused: pushes wait for the next poll",
        description: "In the last 30 minutes the notification-controller answered {{ $value | humanize }} webhook deliveries with an error (no Receiver at the path, a signature that does not verify, or a 5xx): those pushes reconcile nothing until Flux polls.",
      }),
      ...(jobs
        ? [
            rule("RegistryWebhookNotSet", {
              expr:
                `time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{${jobs}}) > ${hours * 3600}
` +
                `  or (max by (namespace, cronjob) (kube_cronjob_created{${jobs}}) < time() - ${hours * 3600}
` +
                `    unless on (namespace, cronjob) kube_cronjob_status_last_successful_time{${jobs}})`,
              labels,
              summary: "The registry webhook of {{ $labels.cronjob }} has not been set for 3 hours",
              description: `The Job {{ $labels.namespace }}/{{ $labels.cronjob }}, which points the registry's push notifications at its Receiver, has not succeeded for ${hours} hours: new images wait for the 5-minute scan.`,
            }),
          ]
        : []),
    ],
  };
}

/** Every group of the platform's rules, one per concern. */
export function alertRuleGroups(input: AlertRulesInput): RuleGroup[] {
  return [
    applicationErrors(input.environments),
    nodes(input.node),
    workloads(input.environments),
    platformHealth(),
    ...(input.webhooks ? [webhookDeliveries(input.webhooks)] : []),
  ];
}

/** The groups in Prometheus's rule file format, for promtool. */
export function ruleFile(groups: readonly RuleGroup[]): { groups: { name: string; rules: AlertRule[] }[] } {
  return { groups: groups.map((group) => ({ name: group.name, rules: group.rules })) };
}

/** One PrometheusRule per concern, in the monitoring namespace. */
export function prometheusRules(groups: readonly RuleGroup[], namespace: string): KubernetesObject[] {
  return groups.map((group) => ({
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: group.name, namespace, labels: { "app.kubernetes.io/part-of": "platform-alerting" } },
    spec: { groups: [{ name: group.name, rules: group.rules }] },
  }));
}
