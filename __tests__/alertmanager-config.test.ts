import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { alertmanagerConfig, CHART_INHIBIT_RULES, type Pager } from "../constructs/addons/alertmanager-config";
import { PAGER_SERVICES } from "../config/pager";
import { CHARTS } from "../constructs/addons/charts";
import { DEFAULT_VALUES_DIR, mergeValues, userValues } from "../constructs/addons/values";
import { ALERTMANAGER_PORT, ALERTMANAGER_URL, MONITORING_NAMESPACE, MONITORING_RELEASE, smtpPlaceholders } from "../constructs/addons/monitoring";
import { watchdogSinkReceiver } from "../constructs/addons/watchdog-sink";
import { snsHeartbeatReceiver } from "../constructs/aws/uptime-checks";
import { inhibited } from "./support/alertmanager";
import { commandLineTool, sharedDataDir, skipNote } from "./support/environment";
import { DEFAULT_SYNTH_VARIABLE, SYNTH_LOG } from "./support/synth-output";

const HEARTBEAT_TOPIC = "arn:aws:sns:us-east-1:123456789012:acme-platform-heartbeat";

/** The configuration as the chart receives it: computed values, then the values file (SMTP relay). */
function config(heartbeat: Record<string, unknown> | undefined, emails = ["platform-alerts@example.com", "dev-team@example.com"], pager?: Pager) {
  const computed = alertmanagerConfig({
    emails,
    smtpPasswordFile: "/etc/alertmanager/secrets/alertmanager-smtp/password",
    productionEnvironments: ["production"],
    heartbeat,
    pager,
  });
  const files = userValues(DEFAULT_VALUES_DIR, "kube-prometheus-stack", "aws").map((values) => (values.alertmanager as any)?.config ?? {});
  return mergeValues(computed, ...files);
}

describe("Alertmanager routing as the add-on computes it", () => {
  const routed = config(snsHeartbeatReceiver(HEARTBEAT_TOPIC)) as any;

  it("mails everything to alerts.emails, the receivers of last resort included", () => {
    expect(routed.route.receiver).toBe("email");
    expect(routed.receivers.find((r: any) => r.name === "email").email_configs).toEqual([
      expect.objectContaining({ to: "platform-alerts@example.com, dev-team@example.com", send_resolved: true }),
    ]);
    const receivers = routed.route.routes.map((r: any) => r.receiver);
    expect(receivers.filter((r: string) => r !== "email")).toEqual(["heartbeat"]);
  });

  it("repeats production's critical alerts twice an hour until they resolve, others less often", () => {
    const intervals = Object.fromEntries(routed.route.routes.map((r: any) => [r.matchers.join(","), r.repeat_interval]));
    expect(intervals).toMatchObject({
      // Twice an hour, as the title says: the literal, not the code's own constant.
      'severity = "critical",environment =~ "production"': "30m",
      'severity = "critical",namespace =~ "production"': "30m",
      'severity = "critical"': "4h",
      'severity = "warning"': "12h",
    });
    expect(routed.route.repeat_interval).toBe("24h");
  });

  it("silences the chart's alert about the same fault while the platform's fires, and nothing wider", () => {
    const rules = routed.inhibit_rules;
    const node = { instance: "10.0.1.7:9100" };
    // A node short of memory (critical) does not hide its disk filling up (warning).
    expect(inhibited(rules, { alertname: "NodeMemoryFull", severity: "critical", environment: "platform", ...node }, { alertname: "NodeRootFilesystemFull", severity: "warning", environment: "platform", mountpoint: "/", ...node })).toBe(false);
    // The chart's duplicates are silent while the platform's alert fires, for the same target only.
    const root = { ...node, mountpoint: "/" };
    expect(inhibited(rules, { alertname: "NodeRootFilesystemFull", severity: "warning", environment: "platform", ...root }, { alertname: "NodeFilesystemAlmostOutOfSpace", severity: "warning", ...root })).toBe(true);
    expect(inhibited(rules, { alertname: "NodeRootFilesystemFull", severity: "warning", ...root }, { alertname: "NodeFilesystemAlmostOutOfSpace", severity: "warning", ...root, mountpoint: "/var/lib/kubelet" })).toBe(false);
    const pod = { namespace: "production", pod: "api-7f9c", container: "api" };
    expect(inhibited(rules, { alertname: "PodCrashLooping", severity: "critical", environment: "production", ...pod }, { alertname: "KubePodCrashLooping", severity: "warning", ...pod })).toBe(true);
    expect(inhibited(rules, { alertname: "PodCrashLooping", severity: "critical", ...pod }, { alertname: "KubePodCrashLooping", severity: "warning", ...pod, pod: "web-1" })).toBe(false);
    // Every platform rule names both alerts.
    for (const rule of rules.slice(CHART_INHIBIT_RULES.length)) {
      expect(rule.source_matchers.join(), JSON.stringify(rule)).toMatch(/^alertname = /);
      expect(rule.target_matchers.join(), JSON.stringify(rule)).toMatch(/^alertname =~ /);
    }
  });

  it("keeps the chart's inhibitions: a critical alert silences the warning of the same name, InfoInhibitor is never sent", () => {
    const rules = routed.inhibit_rules;
    expect(inhibited(rules, { alertname: "KubePodNotReady", severity: "critical", namespace: "production" }, { alertname: "KubePodNotReady", severity: "warning", namespace: "production" })).toBe(true);
    // InfoInhibitor fires exactly while an info alert does; the chart keeps it from being sent.
    const info = { alertname: "CPUThrottlingHigh", severity: "info", namespace: "production" };
    expect(inhibited(rules, info, { alertname: "InfoInhibitor", severity: "none", namespace: "production" })).toBe(true);
    expect(inhibited(rules, { alertname: "InfoInhibitor", severity: "none", namespace: "production" }, info)).toBe(true);
  });
  it("drops the Watchdog without a heartbeat receiver, and mails nothing without addresses", () => {
    const quiet = config(undefined, []) as any;
    expect(quiet.route.routes[0]).toMatchObject({ receiver: "null", matchers: ['alertname = "Watchdog"'] });
    expect(quiet.route.receiver).toBe("null");
    expect(quiet.receivers.map((r: any) => r.name)).toEqual(["null"]);
  });
});

const PAGER_KEY = "/etc/alertmanager/secrets/alertmanager-pager/key";
const pagerOf = (service: Pager["service"]): Pager => ({ service, keyFile: PAGER_KEY });

describe("a pager for production's critical alerts", () => {
  it.each(PAGER_SERVICES)("%s: pages them, reading its key from the mounted secret, and mails them too", (service) => {
    const paged = config(snsHeartbeatReceiver(HEARTBEAT_TOPIC), undefined, pagerOf(service)) as any;
    const production = paged.route.routes.filter((r: any) => r.matchers.some((m: string) => m.includes("production")));
    expect(production.map((r: any) => r.receiver)).toEqual(["pager", "pager"]);
    const pager = paged.receivers.find((r: any) => r.name === "pager");
    const notifier = Object.keys(pager).find((key) => key !== "name" && key !== "email_configs")!;
    expect(Object.keys(pager).sort()).toEqual(["email_configs", "name", notifier].sort());
    // The key only as a file: never in the configuration, which Terraform keeps in its state.
    expect(JSON.stringify(pager[notifier])).toContain(PAGER_KEY);
    expect(Object.keys(pager[notifier][0]).filter((key) => /key|url/.test(key) && !key.endsWith("_file"))).toEqual([]);
    expect(pager.email_configs).toEqual(paged.receivers.find((r: any) => r.name === "email").email_configs);
    // Everything else stays mail.
    expect(paged.route.routes.filter((r: any) => r.receiver === "pager")).toHaveLength(2);
    expect(paged.route.receiver).toBe("email");
  });

  it("names the EU endpoint where configured", () => {
    expect(alertmanagerConfig({ emails: [], smtpPasswordFile: "x", productionEnvironments: ["production"], pager: { ...pagerOf("pagerduty"), url: "https://events.eu.pagerduty.com/v2/enqueue" } }).receivers).toContainEqual({
      name: "pager",
      pagerduty_configs: [{ routing_key_file: PAGER_KEY, severity: "critical", send_resolved: true, url: "https://events.eu.pagerduty.com/v2/enqueue" }],
    });
  });
});

const shared = sharedDataDir();

describe.skipIf(!shared.available)(`receivers against Alertmanager's own configuration at the deployed version${skipNote(shared)}`, () => {
  const fixture = JSON.parse(readFileSync(path.join(__dirname, "upstream", "alertmanager-v0.34.0-receivers.json"), "utf8"));

  it("the URL other alert sources use is the chart's Alertmanager Service: its name from the release, its port from the chart's defaults", () => {
    const defaults = parse(readFileSync(path.join(shared.dir!, "charts", `kube-prometheus-stack-${CHARTS["kube-prometheus-stack"].version}`, "values.yaml"), "utf8"));
    expect(defaults.alertmanager.service.port).toBe(ALERTMANAGER_PORT);
    expect(ALERTMANAGER_URL).toBe(`http://${MONITORING_RELEASE}-alertmanager.${MONITORING_NAMESPACE}.svc.cluster.local:${defaults.alertmanager.service.port}`);
  });

  it("set only keys the deployed Alertmanager knows, for every pager, the heartbeats and mail", () => {
    const defaults = parse(readFileSync(path.join(shared.dir!, "charts", `kube-prometheus-stack-${CHARTS["kube-prometheus-stack"].version}`, "values.yaml"), "utf8"));
    expect(defaults.alertmanager.alertmanagerSpec.image.tag, "re-read the receivers' keys for the new Alertmanager").toBe(fixture.version);
    const configs = [
      ...PAGER_SERVICES.map((service) => config(snsHeartbeatReceiver(HEARTBEAT_TOPIC), undefined, pagerOf(service))),
      config(watchdogSinkReceiver()),
    ] as any[];
    let checked = 0;
    for (const receiver of configs.flatMap((c) => c.receivers)) {
      for (const [kind, notifiers] of Object.entries<any>(receiver)) {
        if (kind === "name") continue;
        expect(Object.keys(fixture.receivers), kind).toContain(kind);
        for (const notifier of notifiers) for (const key of Object.keys(notifier)) expect(fixture.receivers[kind], `${kind}.${key}`).toContain(key), checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(fixture.receivers.pagerduty_configs).not.toContain("routing_key_path");
  });
});

describe.skipIf(!shared.available)(`the chart's inhibitions at the pinned version${skipNote(shared)}`, () => {
  it("are all in the configuration, which replaces the chart's list", () => {
    const defaults = parse(readFileSync(path.join(shared.dir!, "charts", `kube-prometheus-stack-${CHARTS["kube-prometheus-stack"].version}`, "values.yaml"), "utf8"));
    const chartRules = defaults.alertmanager.config.inhibit_rules;
    expect(chartRules.length).toBeGreaterThan(0);
    expect(CHART_INHIBIT_RULES).toEqual(chartRules);
    for (const rule of chartRules) expect((config(undefined) as any).inhibit_rules).toContainEqual(rule);
  });
});

const amtool = commandLineTool("amtool", "AMTOOL");

describe.skipIf(!amtool.available)(`the configuration under the real amtool${skipNote(amtool)}`, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "alertmanager-"));
    writeFileSync(path.join(dir, "heartbeat.yaml"), stringify(config(snsHeartbeatReceiver(HEARTBEAT_TOPIC))));
    writeFileSync(path.join(dir, "plain.yaml"), stringify(config(undefined)));
    writeFileSync(path.join(dir, "silent.yaml"), stringify(config(undefined, [])));
    for (const service of PAGER_SERVICES) writeFileSync(path.join(dir, `pager-${service}.yaml`), stringify(config(snsHeartbeatReceiver(HEARTBEAT_TOPIC), undefined, pagerOf(service))));
    writeFileSync(path.join(dir, "sink.yaml"), stringify(config(watchdogSinkReceiver())));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (...args: string[]): string => execFileSync(amtool.path!, args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

  it("passes check-config with a heartbeat or the sink, without receivers, and with each pager", () => {
    const files = ["heartbeat.yaml", "plain.yaml", "silent.yaml", "sink.yaml", ...PAGER_SERVICES.map((service) => `pager-${service}.yaml`)];
    // One run for every file: amtool checks each and says so.
    const output = run("check-config", ...files);
    for (const file of files) expect(output).toContain(`Checking '${file}'  SUCCESS`);
  });

  it("rejects a configuration whose route names no receiver, so the check can fail", () => {
    const broken = config(undefined) as any;
    broken.route.routes[1].receiver = "pager";
    writeFileSync(path.join(dir, "broken.yaml"), stringify(broken));
    let output = "";
    try {
      run("check-config", "broken.yaml");
    } catch (error) {
      output = String((error as { stdout?: string }).stdout);
    }
    expect(output).toContain('FAILED: undefined receiver "pager"');
  });

  /** Labels of an alert, and the matchers of the route that must take it. */
  const cases: [string, string[], string, string][] = [
    ["the Watchdog goes to the heartbeat", ["alertname=Watchdog", "severity=none"], "heartbeat", 'alertname="Watchdog"'],
    ["a production critical alert repeats until resolved", ["alertname=ApplicationErrorRatioHigh", "severity=critical", "environment=production"], "email", 'environment=~"production"'],
    ["a chart rule's critical alert in the production namespace too", ["alertname=KubePodNotReady", "severity=critical", "namespace=production"], "email", 'namespace=~"production"'],
    ["a staging critical alert", ["alertname=ApplicationErrorRatioHigh", "severity=critical", "environment=staging"], "email", '{severity="critical"}'],
    ["a warning", ["alertname=NodeCpuFull", "severity=warning", "environment=platform"], "email", '{severity="warning"}'],
    ["an alert of no known severity still reaches the e-mails", ["alertname=Something", "severity=info"], "email", "default-route"],
  ];

  it.each(cases)("%s", (_, labels, receiver, route) => {
    expect(run("config", "routes", "test", "--config.file=heartbeat.yaml", `--verify.receivers=${receiver}`, ...labels).trim()).toBe(receiver);
    const tree = run("config", "routes", "test", "--config.file=heartbeat.yaml", "--tree", ...labels);
    // The tree ends with the matched route, then the receiver names.
    const matched = tree.split("\n").filter((line) => line.includes("receiver:")).pop()!;
    expect(matched).toContain(route);
    expect(matched).toContain(`receiver: ${receiver}`);
  });
});

describe("the mail relay's placeholders", () => {
  const emails = ["platform-alerts@example.com"];

  it("are named with the values file and key they come from", () => {
    expect(smtpPlaceholders(DEFAULT_VALUES_DIR, ["aws", "azure"], emails).map((p) => [p.path, p.value])).toEqual([
      ["helm-values/kube-prometheus-stack.yaml: alertmanager.config.global.smtp_smarthost", "smtp.example.com:587"],
      ["helm-values/kube-prometheus-stack.yaml: alertmanager.config.global.smtp_from", "alertmanager@example.com"],
      ["helm-values/kube-prometheus-stack.yaml: alertmanager.config.global.smtp_auth_username", "alertmanager@example.com"],
    ]);
  });

  it("follow a cloud's overlay where it sets the relay, and matter only when alerts are mailed", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "values-"));
    try {
      writeFileSync(path.join(dir, "kube-prometheus-stack.yaml"), stringify({ alertmanager: { config: { global: { smtp_smarthost: "smtp.example.com:587" } } } }));
      writeFileSync(path.join(dir, "kube-prometheus-stack.aws.yaml"), stringify({ alertmanager: { config: { global: { smtp_smarthost: "email-smtp.eu-west-1.amazonaws.com:587" } } } }));
      expect(smtpPlaceholders(dir, ["aws"], emails)).toEqual([]);
      expect(smtpPlaceholders(dir, ["aws", "azure"], emails).map((p) => p.path)).toEqual([`${path.basename(dir)}/kube-prometheus-stack.yaml: alertmanager.config.global.smtp_smarthost`]);
      expect(smtpPlaceholders(dir, ["azure"], [])).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("are in npm run synth's warning about the example's placeholders", () => {
    // The global setup ran npm run synth on the example and kept what it printed.
    const log = readFileSync(path.join(path.dirname(process.env[DEFAULT_SYNTH_VARIABLE]!), SYNTH_LOG), "utf8");
    expect(log).toContain('  - helm-values/kube-prometheus-stack.yaml: alertmanager.config.global.smtp_smarthost: "smtp.example.com:587" uses a domain reserved for examples');
  });
});

describe.skipIf(!amtool.available)(`routing with a pager, under the real amtool${skipNote(amtool)}`, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "alertmanager-pager-"));
    writeFileSync(path.join(dir, "pager.yaml"), stringify(config(snsHeartbeatReceiver(HEARTBEAT_TOPIC), undefined, pagerOf("pagerduty"))));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ["production's critical alert pages", ["alertname=ApplicationErrorRatioHigh", "severity=critical", "environment=production"], "pager"],
    ["a chart rule's critical alert in the production namespace pages", ["alertname=KubePodNotReady", "severity=critical", "namespace=production"], "pager"],
    ["staging's critical alert is mailed", ["alertname=ApplicationErrorRatioHigh", "severity=critical", "environment=staging"], "email"],
    ["a platform critical alert is mailed", ["alertname=NodeMemoryFull", "severity=critical", "environment=platform"], "email"],
    ["production's warning is mailed", ["alertname=PodCrashLooping", "severity=warning", "environment=production"], "email"],
    ["the Watchdog goes to the heartbeat", ["alertname=Watchdog", "severity=none"], "heartbeat"],
  ])("%s", (_, labels, receiver) => {
    const out = execFileSync(amtool.path!, ["config", "routes", "test", "--config.file=pager.yaml", `--verify.receivers=${receiver}`, ...labels], { cwd: dir, encoding: "utf8" });
    expect(out.trim()).toBe(receiver);
  });
});
