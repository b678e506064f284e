import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PAGER_SECRET_SUFFIX } from "../config/pager";
import { ALERTMANAGER_PAGER_SECRET } from "../constructs/addons/monitoring";
import { platformSecretPrefix } from "../constructs/contract";
import { problemOf } from "./support/config-problems";
import { configWith, resourcesOf, synthesize, validateConfig, type Synthesized } from "./support/synth";

const PAGER_EMAIL = "platform-oncall@acme.pagerduty.com";

/**
 * The example with a PagerDuty pager, and uptime checks on staging too (which
 * must not page): one synthesis serves both.
 */
const withPager = () =>
  validateConfig(
    configWith((raw) => {
      raw.alerts.pager = { service: "pagerduty", email: PAGER_EMAIL };
      raw.environments[1].alerts = { uptimeChecks: true };
    }),
  );

/** Every helm_release's values, by release name. */
const values = (stack: any): Record<string, any> => Object.fromEntries(Object.values<any>(stack.resource.helm_release).map((r) => [r.name, parse(r.values[0])]));
const manifests = (stack: any): any[] =>
  Object.values<any>(stack.resource.helm_release)
    .filter((r) => String(r.chart).startsWith("./assets/"))
    .flatMap((r) => parse(r.values[0]).manifests);

describe("a pager and staging's uptime checks, from config to every place that alerts", () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize(withPager());
  });

  it.each(["aws", "azure"])("%s-addons: Alertmanager pages production's critical alerts with a key External Secrets brings from the cloud's store", (cloud) => {
    const addons = synth.stack(`${cloud}-addons`);
    const secret = manifests(addons).find((m) => m.kind === "ExternalSecret" && m.metadata.name === ALERTMANAGER_PAGER_SECRET);
    expect(secret.spec).toMatchObject({
      secretStoreRef: { kind: "ClusterSecretStore" },
      target: { name: ALERTMANAGER_PAGER_SECRET },
      data: [{ secretKey: "key", remoteRef: { key: `${platformSecretPrefix("acme")}${PAGER_SECRET_SUFFIX}` } }],
    });
    const alertmanager = values(addons)["kube-prometheus-stack"].alertmanager;
    expect(alertmanager.alertmanagerSpec.secrets).toContain(ALERTMANAGER_PAGER_SECRET);
    const pager = alertmanager.config.receivers.find((r: any) => r.name === "pager");
    // The chart mounts each secret of alertmanagerSpec.secrets at /etc/alertmanager/secrets/<name>/.
    expect(pager.pagerduty_configs).toEqual([{ routing_key_file: `/etc/alertmanager/secrets/${ALERTMANAGER_PAGER_SECRET}/${secret.spec.data[0].secretKey}`, severity: "critical", send_resolved: true }]);
    expect(alertmanager.config.route.routes.filter((r: any) => r.receiver === "pager").flatMap((r: any) => r.matchers)).toEqual([
      'severity = "critical"',
      'environment =~ "production"',
      'severity = "critical"',
      'namespace =~ "production"',
    ]);
  });

  it("checks other environments from outside only when their config asks", () => {
    const urls = Object.values(resourcesOf(synth.stack("azure-platform"), "azurerm_application_insights_standard_web_test")).map((t) => t.request.url);
    expect(urls.sort()).toEqual([
      "https://api.apps.example.com/api/v1/health",
      "https://api.staging.apps.example.com/api/v1/health",
      "https://web.apps.example.com/healthz",
      "https://web.staging.apps.example.com/healthz",
    ]);
    const checks = Object.values(resourcesOf(synth.stack("aws-platform"), "aws_route53_health_check")).map((c) => c.fqdn);
    expect(checks.sort()).toEqual(["api.apps.example.com", "api.staging.apps.example.com", "web.apps.example.com", "web.staging.apps.example.com"]);
  });

  it("aws-platform: the heartbeat alarm and production's uptime alarms also go to a topic the pager's e-mail integration subscribes to", () => {
    const platform = synth.stack("aws-platform");
    const topics = resourcesOf(platform, "aws_sns_topic");
    const [pagesId] = Object.entries<any>(topics).find(([, t]) => t.name === "acme-platform-pages")!;
    const subscriptions = Object.values<any>(resourcesOf(platform, "aws_sns_topic_subscription")).filter((s) => s.topic_arn.includes(pagesId));
    expect(subscriptions.map((s) => [s.protocol, s.endpoint])).toEqual([["email", PAGER_EMAIL]]);
    const pages = (alarm: any) => alarm.alarm_actions.some((a: string) => a.includes(pagesId));
    const alarms = Object.values<any>(resourcesOf(platform, "aws_cloudwatch_metric_alarm"));
    expect(alarms.filter(pages).map((a) => a.alarm_name).sort()).toEqual(["acme-platform-monitoring-heartbeat-silent", "acme-platform-production-api-down", "acme-platform-production-web-down"]);
    // Staging is checked (two uptime alarms) but mails; certificate alarms mail everywhere.
    expect(alarms.filter((a) => a.alarm_name.includes("staging") && a.alarm_name.endsWith("-down")).length).toBe(2);
    for (const alarm of alarms.filter(pages)) expect(alarm.ok_actions.some((a: string) => a.includes(pagesId)), alarm.alarm_name).toBe(true);
    // Backups are mailed, on the data stacks' own topics.
    for (const environment of ["develop", "staging", "production"]) {
      expect(JSON.stringify(resourcesOf(synth.stack(`aws-${environment}-data`), "aws_cloudwatch_metric_alarm"))).not.toContain("pages");
    }
  });

  it("azure-platform: the heartbeat and production's availability alerts also notify an action group mailing the pager", () => {
    const platform = synth.stack("azure-platform");
    const groups = Object.entries<any>(resourcesOf(platform, "azurerm_monitor_action_group"));
    const [pagesId, pagesGroup] = groups.find(([, g]) => g.name === "acme-platform-pages")!;
    expect(pagesGroup.email_receiver).toEqual([{ name: "pager", email_address: PAGER_EMAIL, use_common_alert_schema: false }]);
    expect(pagesGroup.webhook_receiver).toBeUndefined();
    const paging = (ids: string[]) => ids.some((id) => id.includes(pagesId));
    const [heartbeat] = Object.values<any>(resourcesOf(platform, "azurerm_monitor_scheduled_query_rules_alert_v2"));
    expect(heartbeat.action.action_groups).toHaveLength(2);
    expect(paging(heartbeat.action.action_groups)).toBe(true);
    const availability = Object.values<any>(resourcesOf(platform, "azurerm_monitor_metric_alert"));
    expect(availability.filter((a) => paging(a.action.map((x: any) => x.action_group_id))).map((a) => a.name).sort()).toEqual(["acme-platform-production-api-down", "acme-platform-production-web-down"]);
    expect(availability.filter((a) => a.name.includes("staging"))).toHaveLength(2);
  });

  it("holds no pager key anywhere in the synthesized program: only the secret's name and an e-mail address", () => {
    // An EventBridge connection's API key to a webhook Receiver names only the environment (docs/environments.md).
    const text = synth.allText().replace(/"api_key": \{\s*"key": "X-Platform-Environment",\s*"value": "[a-z0-9-]+"\s*\}/g, "");
    expect(text).toContain(`${platformSecretPrefix("acme")}${PAGER_SECRET_SUFFIX}`);
    // A key could only be written inline: as a pager notifier's key or URL, an HTTPS subscription or a webhook receiver.
    expect(text).not.toMatch(/"(routing_key|service_key|api_key|api_url|webhook_url)\\?":/);
    expect(text).not.toMatch(/routing_key:|api_key:|api_url:|webhook_url:/);
    for (const id of Object.keys(synth.manifest.stacks)) {
      const stack = synth.stack(id);
      for (const subscription of Object.values<any>(resourcesOf(stack, "aws_sns_topic_subscription"))) expect(subscription.protocol, id).toBe("email");
      for (const group of Object.values<any>(resourcesOf(stack, "azurerm_monitor_action_group"))) expect(group.webhook_receiver, id).toBeUndefined();
    }
  });

  it("is checked at synth: a pager the platform does not know, or an endpoint not over HTTPS", () => {
    expect(problemOf((raw) => (raw.alerts.pager = { service: "victorops", email: PAGER_EMAIL }))).toMatchObject({ path: "alerts.pager.service", value: "victorops" });
    expect(problemOf((raw) => (raw.alerts.pager = { service: "opsgenie", email: PAGER_EMAIL, url: "http://api.eu.opsgenie.com/" }))).toMatchObject({ path: "alerts.pager.url", message: "an https URL" });
    expect(problemOf((raw) => (raw.alerts.pager = { service: "slack" }))).toMatchObject({ path: "alerts.pager.email" });
  });
});
