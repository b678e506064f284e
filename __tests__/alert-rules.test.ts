import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadConfig } from "../config";
import {
  alertRuleGroups,
  GATEWAY_JOB,
  GATEWAY_REQUESTS,
  KNATIVE_SERVICE_LABEL,
  QUEUE_PROXY_JOB,
  REQUEST_COUNT,
  RESOURCE_METRIC,
  ruleFile,
  type AlertEnvironment,
  type AlertRulesInput,
  type NodeThresholds,
  type RuleGroup,
} from "../constructs/addons/alert-rules";
import { commandLineTool, skipNote } from "./support/environment";

/** The default configuration with thresholds that differ per environment, as a user would set them. */
function input(): AlertRulesInput {
  const config = loadConfig();
  const environments = config.environments.map((environment, i) => ({
    ...environment,
    alerts: { ...environment.alerts, errorRatio: [0.2, 0.1, 0.02][i] ?? 0.05, migrationTimeoutMinutes: [60, 45, 20][i] ?? 30 },
  }));
  return { environments, node: config.alerts.node, webhooks: { proxyNamespace: "flux-webhooks", jobNamespace: "registry-webhooks" } };
}

type Series = { series: string; values: string };
interface Case {
  readonly alert: string;
  /** Evaluation time in minutes. */
  readonly at: number;
  readonly firing: Series[];
  readonly quiet: Series[];
  /** Labels of the alert the firing series raise, beside alertname. */
  readonly labels: Record<string, string>;
}

const series = (name: string, labels: Record<string, string>, values: string): Series => ({
  series: `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(", ")}}`,
  values,
});

/** A firing and a quiet input for every rule the configuration generates. */
function cases(environments: readonly AlertEnvironment[], node: NodeThresholds): Case[] {
  const perEnvironment = environments.flatMap((environment): Case[] => {
    const ns = environment.name;
    const severity = environment.stage === "production" ? "critical" : "warning";
    const envLabels = { severity, environment: ns };
    const r = environment.alerts.errorRatio;
    const request = (code: string, perMinute: number) =>
      series(REQUEST_COUNT, { job: QUEUE_PROXY_JOB, namespace: ns, [KNATIVE_SERVICE_LABEL]: "api", http_response_status_code: code }, `0+${perMinute}x30`);
    const minutes = environment.alerts.migrationTimeoutMinutes;
    const long = minutes + 10;
    const job = { namespace: ns, job_name: "migrate-42" };
    const pod = { namespace: ns, pod: "api-migrate-7f9c" };
    const migrationLabels = (component: string) => ({ ...job, label_app_kubernetes_io_component: component });
    return [
      {
        alert: "ApplicationErrorRatioHigh",
        at: 15,
        // 100 errors a minute against just enough successes to stay above, then below, the ratio.
        firing: [request("500", 100), request("200", Math.floor((50 * (1 - r)) / r))],
        quiet: [request("500", 100), request("200", Math.ceil((200 * (1 - r)) / r))],
        labels: { ...envLabels, namespace: ns, [KNATIVE_SERVICE_LABEL]: "api" },
      },
      {
        alert: "PodCrashLooping",
        at: 20,
        firing: [series("kube_pod_container_status_waiting_reason", { ...pod, container: "api", reason: "CrashLoopBackOff" }, "1x30")],
        quiet: [series("kube_pod_container_status_waiting_reason", { ...pod, container: "api", reason: "CrashLoopBackOff" }, "0x30")],
        labels: { ...envLabels, ...pod, container: "api", reason: "CrashLoopBackOff" },
      },
      {
        alert: "MigrationJobStuck",
        at: minutes + 5,
        firing: [
          series("kube_job_status_start_time", job, `0x${long}`),
          series("kube_job_status_active", job, `1x${long}`),
          series("kube_job_labels", migrationLabels("migration"), `1x${long}`),
        ],
        // The same long Job, not labelled a migration.
        quiet: [
          series("kube_job_status_start_time", job, `0x${long}`),
          series("kube_job_status_active", job, `1x${long}`),
          series("kube_job_labels", migrationLabels("worker"), `1x${long}`),
        ],
        labels: { ...envLabels, ...job },
      },
      {
        alert: "MigrationJobFailed",
        at: 5,
        // Retries spent: the Job carries its Failed condition.
        firing: [
          series("kube_job_status_failed", { ...job, reason: "BackoffLimitExceeded" }, "1x10"),
          series("kube_job_failed", { ...job, condition: "true" }, "1x10"),
          series("kube_job_labels", migrationLabels("migration"), "1x10"),
        ],
        // One pod failed, the retry succeeded: kube-state-metrics keeps the failed pod
        // (reason "", no Failed condition), and the Job is Complete.
        quiet: [
          series("kube_job_status_failed", { ...job, reason: "" }, "1x10"),
          series("kube_job_status_succeeded", job, "1x10"),
          series("kube_job_complete", { ...job, condition: "true" }, "1x10"),
          series("kube_job_labels", migrationLabels("migration"), "1x10"),
        ],
        labels: { ...envLabels, ...job, condition: "true" },
      },
      {
        alert: "MigrationInitContainerStuck",
        at: minutes + 5,
        firing: [
          series("kube_pod_init_container_status_running", { ...pod, container: "migrate" }, `1x${long}`),
          series("kube_pod_labels", { ...pod, label_app_kubernetes_io_component: "migration" }, `1x${long}`),
        ],
        // Running, but for less than the timeout.
        quiet: [
          series("kube_pod_init_container_status_running", { ...pod, container: "migrate" }, `0x10 1x${long - 10}`),
          series("kube_pod_labels", { ...pod, label_app_kubernetes_io_component: "migration" }, `1x${long}`),
        ],
        labels: { ...envLabels, ...pod, container: "migrate" },
      },
      {
        alert: "MigrationInitContainerFailing",
        at: 10,
        firing: [
          series("kube_pod_init_container_status_waiting_reason", { ...pod, container: "migrate", reason: "CrashLoopBackOff" }, "1x15"),
          series("kube_pod_labels", { ...pod, label_app_kubernetes_io_component: "migration" }, "1x15"),
        ],
        quiet: [
          series("kube_pod_init_container_status_waiting_reason", { ...pod, container: "migrate", reason: "CrashLoopBackOff" }, "1x15"),
          series("kube_pod_labels", { ...pod, label_app_kubernetes_io_component: "web" }, "1x15"),
        ],
        labels: { ...envLabels, ...pod, container: "migrate" },
      },
    ];
  });
  const platform = { severity: "warning", environment: "platform" };
  const hook = (code: string, perMinute: number) => series(REQUEST_COUNT, { job: QUEUE_PROXY_JOB, namespace: "flux-webhooks", http_response_status_code: code }, `0+${perMinute}x30`);
  const job = { namespace: "registry-webhooks", cronjob: "webhook-develop" };
  const root = { instance: "node-1", mountpoint: "/", fstype: "ext4" };
  const resource = (group: string, kind: string, ready: string) =>
    series(RESOURCE_METRIC, { customresource_group: group, customresource_kind: kind, customresource_version: "v1", exported_namespace: "production", name: "api", ready }, "1x30");
  const resourceCase = (alert: string, group: string, kind: string): Case => ({
    alert,
    at: 20,
    firing: [resource(group, kind, "False")],
    quiet: [resource(group, kind, "True")],
    labels: { ...platform, customresource_group: group, customresource_kind: kind, customresource_version: "v1", exported_namespace: "production", name: "api", ready: "False" },
  });
  return [
    ...perEnvironment,
    {
      alert: "NodeCpuFull",
      at: 25,
      // Idle seconds per CPU second: none (all busy), then all (idle).
      firing: [series("node_cpu_seconds_total", { instance: "node-1", cpu: "0", mode: "idle" }, "0+0x30")],
      quiet: [series("node_cpu_seconds_total", { instance: "node-1", cpu: "0", mode: "idle" }, "0+60x30")],
      labels: { ...platform, instance: "node-1" },
    },
    {
      alert: "NodeMemoryFull",
      at: 15,
      firing: [series("node_memory_MemAvailable_bytes", { instance: "node-1" }, `${node.memoryAvailablePercent / 2}x20`), series("node_memory_MemTotal_bytes", { instance: "node-1" }, "100x20")],
      quiet: [series("node_memory_MemAvailable_bytes", { instance: "node-1" }, `${node.memoryAvailablePercent * 2}x20`), series("node_memory_MemTotal_bytes", { instance: "node-1" }, "100x20")],
      labels: { severity: "critical", environment: "platform", instance: "node-1" },
    },
    {
      alert: "NodeRootFilesystemFull",
      at: 15,
      firing: [series("node_filesystem_avail_bytes", root, `${node.diskAvailablePercent / 2}x20`), series("node_filesystem_size_bytes", root, "100x20")],
      // Only a tmpfs is full.
      quiet: [
        series("node_filesystem_avail_bytes", { ...root, fstype: "tmpfs" }, "0x20"),
        series("node_filesystem_size_bytes", { ...root, fstype: "tmpfs" }, "100x20"),
        series("node_filesystem_avail_bytes", root, "90x20"),
        series("node_filesystem_size_bytes", root, "100x20"),
      ],
      labels: { ...platform, ...root },
    },
    resourceCase("FluxResourceNotReady", "kustomize.toolkit.fluxcd.io", "Kustomization"),
    resourceCase("FluxInstanceNotReady", "fluxcd.controlplane.io", "FluxInstance"),
    resourceCase("ExternalSecretNotSynced", "external-secrets.io", "ExternalSecret"),
    resourceCase("KnativeRevisionNotReady", "serving.knative.dev", "Revision"),
    {
      alert: "PlatformTargetDown",
      at: 15,
      firing: [series("up", { job: "flux-system/flux-controllers", namespace: "flux-system", instance: "10.0.0.7:8080" }, "0x20")],
      // An application target in an environment is not the platform's.
      quiet: [series("up", { job: "flux-system/flux-controllers", namespace: "flux-system", instance: "10.0.0.7:8080" }, "1x20"), series("up", { job: "x", namespace: "develop", instance: "10.0.0.8:80" }, "0x20")],
      labels: { ...platform, job: "flux-system/flux-controllers", namespace: "flux-system", instance: "10.0.0.7:8080" },
    },
    {
      alert: "WebhookDeliveriesRejected",
      at: 10,
      // A delivery a minute to a path no Receiver serves any more.
      firing: [hook("404", 1), hook("202", 1)],
      // The proxy's own refusals (scanners, a flood) and accepted deliveries.
      quiet: [hook("403", 5), hook("413", 1), hook("429", 5), hook("200", 1)],
      labels: platform,
    },
    {
      alert: "RegistryWebhookNotSet",
      at: 200,
      // Created at 0, last succeeded at 0: more than 3 hours ago at minute 200.
      firing: [series("kube_cronjob_created", job, "0x200"), series("kube_cronjob_status_last_successful_time", job, "0x200")],
      quiet: [series("kube_cronjob_created", job, "0x200"), series("kube_cronjob_status_last_successful_time", job, "9000x200")],
      labels: { ...platform, ...job },
    },
  ];
}

/**
 * promtool's unit tests compare annotations too; those are templates checked
 * by `promtool check rules`, so the unit tests run the rules without them.
 */
function withoutAnnotations(groups: readonly RuleGroup[]) {
  return { groups: ruleFile(groups).groups.map((group) => ({ ...group, rules: group.rules.map(({ annotations: _, ...rest }) => rest) })) };
}

/** One promtool test per case and outcome, each rule tested in isolation from the others. */
function promtoolTests(groups: readonly RuleGroup[], all: readonly Case[]) {
  return all.flatMap((c) => {
    const group = groups.find((g) => g.rules.some((r) => r.alert === c.alert))!;
    return [
      { name: `${c.alert} ${c.labels.environment ?? ""} fires`, interval: "1m", input_series: c.firing, alert_rule_test: [{ eval_time: `${c.at}m`, alertname: c.alert, exp_alerts: [{ exp_labels: c.labels }] }] },
      { name: `${c.alert} ${c.labels.environment ?? ""} stays quiet`, interval: "1m", input_series: c.quiet, alert_rule_test: [{ eval_time: `${c.at}m`, alertname: c.alert, exp_alerts: [] }] },
    ].map((test) => ({ ...test, group: group.name }));
  });
}

describe("alert rules as the configuration generates them", () => {
  const groups = alertRuleGroups(input());

  it("puts each concern in a group of its own", () => {
    expect(groups.map((g) => g.name)).toEqual(["platform-application-errors", "platform-nodes", "platform-workloads", "platform-health", "platform-webhooks"]);
    expect(alertRuleGroups({ ...input(), webhooks: undefined }).map((g) => g.name)).not.toContain("platform-webhooks");
  });

  it("gives every rule a severity, a summary, a description and a runbook entry", () => {
    for (const rule of groups.flatMap((g) => g.rules)) {
      expect(["critical", "warning"], rule.alert).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length, rule.alert).toBeGreaterThan(10);
      expect(rule.annotations.description.length, rule.alert).toBeGreaterThan(20);
      expect(rule.annotations.runbook_url).toBe(`docs/alerting.md#${rule.alert.toLowerCase()}`);
    }
  });

  it("takes each environment's 5xx threshold, and pages only for production", () => {
    const errors = groups[0].rules;
    expect(errors.map((r) => [r.labels.environment, r.labels.severity, r.expr.split("\n").pop()!.trim()])).toEqual([
      ["develop", "warning", "> 0.2"],
      ["staging", "warning", "> 0.1"],
      ["production", "critical", "> 0.02"],
    ]);
    expect(errors.every((r) => r.for === "5m")).toBe(true);
  });

  it("takes each environment's migration timeout", () => {
    const stuck = groups[2].rules.filter((r) => r.alert === "MigrationJobStuck");
    expect(stuck.map((r) => r.expr.match(/> (\d+)/)![1])).toEqual(["3600", "2700", "1200"]);
    const init = groups[2].rules.filter((r) => r.alert === "MigrationInitContainerStuck");
    expect(init.map((r) => r.for)).toEqual(["60m", "45m", "20m"]);
  });

  it("has a firing and a quiet case for every rule", () => {
    const { environments, node } = input();
    const covered = cases(environments, node).map((c) => `${c.alert}/${c.labels.environment}`);
    const rules = groups.flatMap((g) => g.rules.map((r) => `${r.alert}/${r.labels.environment}`));
    expect(new Set(covered)).toEqual(new Set(rules));
    expect(covered).toHaveLength(rules.length);
  });
});

const promtool = commandLineTool("promtool", "PROMTOOL");

describe.skipIf(!promtool.available)(`the rules under the real promtool${skipNote(promtool)}`, () => {
  let dir: string;
  const { environments, node } = input();
  const groups = alertRuleGroups(input());

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "alert-rules-"));
    writeFileSync(path.join(dir, "rules.yaml"), stringify(ruleFile(groups)));
    writeFileSync(path.join(dir, "rules-under-test.yaml"), stringify(withoutAnnotations(groups)));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (...args: string[]): { ok: boolean; output: string } => {
    try {
      return { ok: true, output: execFileSync(promtool.path!, args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
    } catch (error) {
      const failure = error as { stdout?: string; stderr?: string };
      return { ok: false, output: `${failure.stdout ?? ""}${failure.stderr ?? ""}` };
    }
  };

  it("checks every group, annotations and all", () => {
    const result = run("check", "rules", "rules.yaml");
    expect(result.output).toContain(`SUCCESS: ${groups.reduce((n, g) => n + g.rules.length, 0)} rules found`);
    expect(result.ok).toBe(true);
  });

  it("fires every rule on its firing series and on no other", () => {
    const tests = promtoolTests(groups, cases(environments, node)).map(({ group: _, ...test }) => test);
    writeFileSync(path.join(dir, "tests.yaml"), stringify({ rule_files: ["rules-under-test.yaml"], evaluation_interval: "1m", tests }));
    const result = run("test", "rules", "tests.yaml");
    expect(result.output).toContain("SUCCESS");
    expect(result.ok).toBe(true);
  });

  it("counts the 5xx the activator and the gateway answer, and not a trickle of requests", () => {
    const production = environments.find((e) => e.stage === "production")!;
    const labels = { alertname: "ApplicationErrorRatioHigh", severity: "critical", environment: production.name, namespace: production.name };
    // Scaling from zero fails: only the activator sees the requests, and answers 503.
    const activator = (code: string) => ({
      ...series(REQUEST_COUNT, { job: "knative-activator", namespace: "knative-serving", k8s_namespace_name: production.name, kn_service_name: "api", kn_revision_name: "api-00003", http_response_status_code: code }, "0+10x30"),
    });
    // No healthy upstream: Kourier's Envoy answers 503 for the revision's cluster.
    const gateway = (codeClass: string) => series(GATEWAY_REQUESTS, { job: GATEWAY_JOB, namespace: "knative-serving", envoy_cluster_name: `${production.name}/web-00002`, envoy_response_code_class: codeClass }, "0+30x30");
    // One error in two requests a minute: 10 requests in 5 minutes.
    const trickle = (code: string) => series(REQUEST_COUNT, { job: QUEUE_PROXY_JOB, namespace: production.name, [KNATIVE_SERVICE_LABEL]: "admin", http_response_status_code: code }, "0+1x30");
    const tests = [
      { name: "activator", interval: "1m", input_series: [activator("503"), activator("200")], alert_rule_test: [{ eval_time: "15m", alertname: "ApplicationErrorRatioHigh", exp_alerts: [{ exp_labels: { ...labels, [KNATIVE_SERVICE_LABEL]: "api" } }] }] },
      { name: "gateway", interval: "1m", input_series: [gateway("5"), gateway("2")], alert_rule_test: [{ eval_time: "15m", alertname: "ApplicationErrorRatioHigh", exp_alerts: [{ exp_labels: { ...labels, [KNATIVE_SERVICE_LABEL]: "web" } }] }] },
      { name: "trickle", interval: "1m", input_series: [trickle("500"), trickle("200")], alert_rule_test: [{ eval_time: "15m", alertname: "ApplicationErrorRatioHigh", exp_alerts: [] }] },
    ];
    writeFileSync(path.join(dir, "sources.yaml"), stringify({ rule_files: ["rules-under-test.yaml"], evaluation_interval: "1m", tests }));
    const result = run("test", "rules", "sources.yaml");
    expect(result.output).toContain("SUCCESS");
    expect(result.ok).toBe(true);
  });

  it("raises RegistryWebhookNotSet for a Job that never succeeded, once it is 3 hours old", () => {
    const job = { namespace: "registry-webhooks", cronjob: "webhook-staging" };
    const created = series("kube_cronjob_created", job, "0x200");
    const expected = { alertname: "RegistryWebhookNotSet", severity: "warning", environment: "platform", ...job };
    const tests = [
      { name: "never", interval: "1m", input_series: [created], alert_rule_test: [{ eval_time: "200m", alertname: "RegistryWebhookNotSet", exp_alerts: [{ exp_labels: expected }] }] },
      { name: "young", interval: "1m", input_series: [created], alert_rule_test: [{ eval_time: "150m", alertname: "RegistryWebhookNotSet", exp_alerts: [] }] },
    ];
    writeFileSync(path.join(dir, "never.yaml"), stringify({ rule_files: ["rules-under-test.yaml"], evaluation_interval: "1m", tests }));
    const result = run("test", "rules", "never.yaml");
    expect(result.output).toContain("SUCCESS");
    expect(result.ok).toBe(true);
  });

  it("fails a case whose expectation is wrong, so the tests above can fail", () => {
    const [first] = promtoolTests(groups, cases(environments, node));
    const { group: _, ...broken } = { ...first, alert_rule_test: [{ ...first.alert_rule_test[0], exp_alerts: [] }] };
    writeFileSync(path.join(dir, "broken.yaml"), stringify({ rule_files: ["rules-under-test.yaml"], evaluation_interval: "1m", tests: [broken] }));
    const result = run("test", "rules", "broken.yaml");
    expect(result.ok).toBe(false);
    expect(result.output).toContain("ApplicationErrorRatioHigh");
  });
});
