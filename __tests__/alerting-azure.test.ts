import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAILY_BACKUP_SILENCE_HOURS } from "../constructs/azure/backup-alerts";
import { CONTAINER_INSIGHTS_STREAMS } from "../constructs/azure/container-insights";
import { FAILED_LOCATIONS_TO_ALERT, HEARTBEAT_SILENCE_MINUTES, heartbeatQuery } from "../constructs/azure/uptime-checks";
import { IN_CLUSTER } from "../constructs/contract";
import { onlyResource, resourcesOf, synthesize, type Synthesized, type TerraformJson } from "./support/synth";

/** The Terraform reference of a resource's attribute, as synthesized: `${type.name.attr}`. */
const ref = (type: string, attribute: string) => new RegExp(`^\\$\\{${type}\\.[\\w-]+\\.${attribute}\\}$`);

describe("outside alerts on Azure", () => {
  let synth: Synthesized;
  let platform: TerraformJson;
  beforeAll(() => {
    synth = synthesize();
    platform = synth.stack("azure-platform");
  });
  afterAll(() => synth?.cleanup());

  it("tests each production application's health path over HTTPS from five locations", () => {
    const tests = Object.values(resourcesOf(platform, "azurerm_application_insights_standard_web_test"));
    expect(tests.map((t) => t.request.url).sort()).toEqual(["https://api.apps.example.com/api/v1/health", "https://web.apps.example.com/healthz"]);
    for (const test of tests) {
      expect(test.geo_locations).toHaveLength(5);
      expect(test).toMatchObject({ frequency: 300, retry_enabled: true, validation_rules: { expected_status_code: 200, ssl_check_enabled: true } });
      expect(test.application_insights_id).toMatch(ref("azurerm_application_insights", "id"));
    }
    const insights = onlyResource(platform, "azurerm_application_insights");
    expect(insights.workspace_id).toMatch(ref("azurerm_log_analytics_workspace", "id"));
  });

  it("alerts the action group when a web test fails from two locations", () => {
    const alerts = Object.values(resourcesOf(platform, "azurerm_monitor_metric_alert"));
    expect(alerts).toHaveLength(2);
    for (const alert of alerts) {
      expect(alert.application_insights_web_test_location_availability_criteria).toMatchObject({ failed_location_count: FAILED_LOCATIONS_TO_ALERT });
      expect(alert.action).toEqual([{ action_group_id: expect.stringMatching(ref("azurerm_monitor_action_group", "id")) }]);
    }
  });

  it("alerts when no Watchdog has reached the cluster's container logs for 10 minutes", () => {
    const rules = Object.values(resourcesOf(platform, "azurerm_monitor_scheduled_query_rules_alert_v2"));
    expect(rules).toHaveLength(1);
    const [heartbeat] = rules;
    expect(heartbeat.scopes).toEqual([expect.stringMatching(ref("azurerm_kubernetes_cluster", "id"))]);
    expect(heartbeat).toMatchObject({ evaluation_frequency: "PT5M", window_duration: "PT10M", severity: 0, auto_mitigation_enabled: true });
    const [criteria] = heartbeat.criteria;
    // Fed by the Watchdog itself: the lines the sink logs for each delivery, which Container Insights collects.
    expect(criteria.query).toBe(heartbeatQuery(IN_CLUSTER.watchdogSink, HEARTBEAT_SILENCE_MINUTES));
    expect(criteria.query).toContain("ContainerLogV2");
    expect(criteria.query).toContain(`PodName startswith "${IN_CLUSTER.watchdogSink.name}-"`);
    expect(criteria).toMatchObject({ metric_measure_column: "Deliveries", operator: "LessThan", threshold: 1 });
    expect(CONTAINER_INSIGHTS_STREAMS).toContain("Microsoft-ContainerLogV2");
    expect(heartbeat.action.action_groups).toEqual([expect.stringMatching(ref("azurerm_monitor_action_group", "id"))]);
    expect(synth.stack("azure-addons").resource!.helm_release).toSatisfy((releases: any) => Object.values<any>(releases).some((r) => r.name === IN_CLUSTER.watchdogSink.name));
  });

  it.each(["develop", "staging", "production"])("azure-%s-data sends backup job logs to Log Analytics and alerts on none completed in 26 h or a failure", (environment) => {
    const stack = synth.stack(`azure-${environment}-data`);
    const diagnostics = onlyResource(stack, "azurerm_monitor_diagnostic_setting");
    expect(diagnostics.target_resource_id).toMatch(ref("azurerm_data_protection_backup_vault", "id"));
    expect(diagnostics.log_analytics_destination_type).toBe("Dedicated");
    expect(diagnostics.enabled_log).toContainEqual({ category: "AddonAzureBackupJobs" });
    expect(diagnostics.log_analytics_workspace_id).toContain("cross-stack-output-azurerm_log_analytics_workspace");

    const rules = Object.values(resourcesOf(stack, "azurerm_monitor_scheduled_query_rules_alert_v2"));
    const byName = Object.fromEntries(rules.map((r) => [r.name, r]));
    const missing = byName[`acme-${environment}-no-daily-backup`];
    expect(missing.criteria[0].query).toContain(`ago(${DAILY_BACKUP_SILENCE_HOURS}h)`);
    expect(missing.criteria[0].query).toContain('JobStatus == "Completed"');
    expect(missing.criteria[0]).toMatchObject({ operator: "LessThan", threshold: 1, metric_measure_column: "Completed" });
    const failed = byName[`acme-${environment}-backup-failed`];
    expect(failed.criteria[0].query).toContain('JobStatus == "Failed"');
    expect(failed.criteria[0]).toMatchObject({ operator: "GreaterThan", threshold: 0 });
    for (const rule of [missing, failed]) {
      expect(rule.scopes).toEqual([expect.stringMatching(ref("azurerm_data_protection_backup_vault", "id"))]);
      expect(rule.action.action_groups).toEqual([expect.stringContaining("cross-stack-output-azurerm_monitor_action_group")]);
      expect(rule.depends_on).toEqual([expect.stringMatching(/^azurerm_monitor_diagnostic_setting\./)]);
    }
  });
});
