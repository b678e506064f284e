/**
 * Alertmanager's routing: every alert goes to `alerts.emails`, how often it
 * repeats depends on its severity, and production's critical alerts page
 * (when a pager is configured) and repeat until they resolve. The chart's
 * inhibitions stay, and a platform alert silences the chart's alert about
 * the same fault. The Watchdog goes to the cloud's heartbeat receiver, if any.
 */

import type { PagerService } from "../../config/pager";

/** The pager production's critical alerts go to. */
export interface Pager {
  readonly service: PagerService;
  /** File holding its routing key, API key or webhook URL, mounted from a Kubernetes secret. */
  readonly keyFile: string;
  /** Its API when not the default (an EU region). */
  readonly url?: string;
}

export interface AlertmanagerConfigProps {
  readonly emails: readonly string[];
  /** File holding the SMTP password, mounted from a Kubernetes secret. */
  readonly smtpPasswordFile: string;
  /** Environments whose critical alerts repeat until resolved, and page. */
  readonly productionEnvironments: readonly string[];
  /** Receiver (without name) the Watchdog is delivered to; dropped without one. */
  readonly heartbeat?: Record<string, unknown>;
  /** @default - no pager: production's critical alerts are mailed */
  readonly pager?: Pager;
}

/**
 * The pager's notifier, reading its secret from a file. PagerDuty and
 * Opsgenie open an incident of the highest urgency and resolve it with the
 * alert; Slack posts to the webhook's channel.
 */
export function pagerNotifier(pager: Pager): Record<string, unknown> {
  switch (pager.service) {
    case "pagerduty":
      return { pagerduty_configs: [{ routing_key_file: pager.keyFile, severity: "critical", send_resolved: true, ...(pager.url ? { url: pager.url } : {}) }] };
    case "opsgenie":
      return { opsgenie_configs: [{ api_key_file: pager.keyFile, priority: "P1", send_resolved: true, ...(pager.url ? { api_url: pager.url } : {}) }] };
    case "slack":
      return { slack_configs: [{ api_url_file: pager.keyFile, title: EMAIL_SUBJECT, send_resolved: true }] };
  }
}

/** How often a still-firing alert is mailed again. */
export const REPEAT_INTERVALS = {
  /** Production's critical alerts: as often as Alertmanager regroups, until resolved. */
  productionCritical: "30m",
  critical: "4h",
  warning: "12h",
  other: "24h",
  /** The Watchdog: well inside the outside alarm's window of silence. */
  heartbeat: "1m",
} as const;

/**
 * kube-prometheus-stack's own inhibitions (its default
 * `alertmanager.config.inhibit_rules`, chart 88.5.3), repeated because the
 * list below replaces the chart's: a critical alert silences the warning and
 * info alerts of the same name in its namespace, a warning the info ones;
 * `InfoInhibitor` silences info alerts, and is itself never sent.
 */
export const CHART_INHIBIT_RULES = [
  { source_matchers: ["severity = critical"], target_matchers: ["severity =~ warning|info"], equal: ["namespace", "alertname"] },
  { source_matchers: ["severity = warning"], target_matchers: ["severity = info"], equal: ["namespace", "alertname"] },
  { source_matchers: ["alertname = InfoInhibitor"], target_matchers: ["severity = info"], equal: ["namespace"] },
  { target_matchers: ["alertname = InfoInhibitor"] },
] as const;

/**
 * The platform's rules that watch what one of the chart's default rules
 * watches too: while the platform's fires, the chart's alert about the same
 * target says nothing new. Each pair names both alerts and the labels that
 * make the target the same, and nothing wider: a critical alert about a
 * node's memory does not hide a warning about its disk.
 */
export const DUPLICATES_OF_CHART_ALERTS: readonly { readonly alert: string; readonly chartAlerts: readonly string[]; readonly equal: readonly string[] }[] = [
  { alert: "PodCrashLooping", chartAlerts: ["KubePodCrashLooping"], equal: ["namespace", "pod", "container"] },
  { alert: "MigrationJobFailed", chartAlerts: ["KubeJobFailed"], equal: ["namespace", "job_name"] },
  { alert: "NodeCpuFull", chartAlerts: ["NodeCPUHighUsage"], equal: ["instance"] },
  { alert: "NodeMemoryFull", chartAlerts: ["NodeMemoryHighUtilization"], equal: ["instance"] },
  { alert: "NodeRootFilesystemFull", chartAlerts: ["NodeFilesystemAlmostOutOfSpace", "NodeFilesystemSpaceFillingUp"], equal: ["instance", "mountpoint"] },
];

/** The environment in the subject: our rules set `environment`; the chart's default rules have a namespace. */
export const EMAIL_SUBJECT =
  '[{{ .Status | toUpper }}] [{{ or .CommonLabels.environment .CommonLabels.namespace "cluster" }}] ' +
  "{{ .CommonLabels.severity }}: {{ .CommonLabels.alertname }}{{ if gt (len .Alerts.Firing) 1 }} ({{ len .Alerts.Firing }} firing){{ end }}";

const regex = (values: readonly string[]): string => values.map((value) => value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");

export function alertmanagerConfig(props: AlertmanagerConfigProps): Record<string, unknown> {
  const mail = props.emails.length > 0 ? "email" : "null";
  const heartbeat = props.heartbeat ? "heartbeat" : "null";
  // Production's critical alerts page, and are mailed too so that the mailbox keeps every alert.
  const page = props.pager ? "pager" : mail;
  const emailConfigs = [{ to: props.emails.join(", "), send_resolved: true, headers: { Subject: EMAIL_SUBJECT } }];
  const production = props.productionEnvironments.length > 0 ? regex(props.productionEnvironments) : undefined;
  return {
    global: props.emails.length > 0 ? { smtp_auth_password_file: props.smtpPasswordFile } : {},
    route: {
      receiver: mail,
      group_by: ["alertname", "environment", "namespace"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: REPEAT_INTERVALS.other,
      routes: [
        {
          receiver: heartbeat,
          matchers: ['alertname = "Watchdog"'],
          group_wait: "0s",
          group_interval: REPEAT_INTERVALS.heartbeat,
          repeat_interval: REPEAT_INTERVALS.heartbeat,
        },
        ...(production
          ? [
              { receiver: page, matchers: ['severity = "critical"', `environment =~ "${production}"`], repeat_interval: REPEAT_INTERVALS.productionCritical },
              { receiver: page, matchers: ['severity = "critical"', `namespace =~ "${production}"`], repeat_interval: REPEAT_INTERVALS.productionCritical },
            ]
          : []),
        { receiver: mail, matchers: ['severity = "critical"'], repeat_interval: REPEAT_INTERVALS.critical },
        { receiver: mail, matchers: ['severity = "warning"'], repeat_interval: REPEAT_INTERVALS.warning },
      ],
    },
    inhibit_rules: [
      ...CHART_INHIBIT_RULES.map((rule) => structuredClone(rule) as Record<string, unknown>),
      ...DUPLICATES_OF_CHART_ALERTS.map((pair) => ({
        source_matchers: [`alertname = "${pair.alert}"`],
        target_matchers: [`alertname =~ "${regex(pair.chartAlerts)}"`],
        equal: [...pair.equal],
      })),
    ],
    receivers: [
      { name: "null" },
      ...(props.emails.length > 0 ? [{ name: "email", email_configs: emailConfigs }] : []),
      ...(props.pager ? [{ name: "pager", ...pagerNotifier(props.pager), ...(props.emails.length > 0 ? { email_configs: emailConfigs } : {}) }] : []),
      ...(props.heartbeat ? [{ name: "heartbeat", ...props.heartbeat }] : []),
    ],
  };
}
