import { ApplicationInsights } from "@cdktf/provider-azurerm/lib/application-insights";
import { ApplicationInsightsStandardWebTest } from "@cdktf/provider-azurerm/lib/application-insights-standard-web-test";
import { MonitorMetricAlert } from "@cdktf/provider-azurerm/lib/monitor-metric-alert";
import type { MonitorScheduledQueryRulesAlertV2 } from "@cdktf/provider-azurerm/lib/monitor-scheduled-query-rules-alert-v2";
import { Construct } from "constructs";
import { CLOUD_ALARMS, runbookUrl } from "../common/runbook";
import { IN_CLUSTER } from "../contract";
import type { UptimeTarget } from "../common/uptime-targets";
import { logAlert } from "./log-alert";

/** Test locations on three continents; an alert needs two of them failing. */
export const WEB_TEST_LOCATIONS = ["emea-nl-ams-azr", "emea-gb-db3-azr", "us-va-ash-azr", "apac-sg-sin-azr", "us-ca-sjc-azr"] as const;
export const FAILED_LOCATIONS_TO_ALERT = 2;
/** Minutes without a running Prometheus and Alertmanager before the heartbeat alert. */
export const HEARTBEAT_SILENCE_MINUTES = 10;

export interface ExternalMonitoringProps {
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  readonly workspaceId: string;
  readonly actionGroupId: string;
  /** The AKS cluster, whose Container Insights inventory the heartbeat reads. */
  readonly clusterId: string;
  readonly uptimeTargets: UptimeTarget[];
}

/**
 * What watches the platform from outside the cluster on Azure: a standard
 * web test and availability alert per exposed application, and the
 * monitoring's dead man's switch. Alertmanager cannot deliver a Watchdog to
 * Azure Monitor without a stored credential, so the heartbeat is read where
 * the cluster already reports without any help from Prometheus: Container
 * Insights' pod inventory in Log Analytics. When no Prometheus or no
 * Alertmanager pod has been Running for 10 minutes, or the cluster has
 * stopped reporting at all, the query finds nothing and the alert fires.
 */
export class ExternalMonitoring extends Construct {
  readonly insights: ApplicationInsights;
  readonly webTests: ApplicationInsightsStandardWebTest[] = [];
  readonly heartbeat: MonitorScheduledQueryRulesAlertV2;

  constructor(scope: Construct, id: string, props: ExternalMonitoringProps) {
    super(scope, id);
    const { location, resourceGroupName } = props;
    this.insights = new ApplicationInsights(this, "insights", {
      name: `${props.name}-uptime`,
      location,
      resourceGroupName,
      applicationType: "web",
      workspaceId: props.workspaceId,
      localAuthenticationDisabled: true,
    });

    for (const target of props.uptimeTargets) {
      const slug = `${target.environment}-${target.application}`;
      const test = new ApplicationInsightsStandardWebTest(this, `uptime-${slug}`, {
        name: `${props.name}-${slug}`,
        location,
        resourceGroupName,
        applicationInsightsId: this.insights.id,
        geoLocations: [...WEB_TEST_LOCATIONS],
        frequency: 300,
        timeout: 30,
        retryEnabled: true,
        request: { url: `https://${target.host}${target.path}`, httpVerb: "GET", followRedirectsEnabled: false },
        validationRules: { expectedStatusCode: 200, sslCheckEnabled: true, sslCertRemainingLifetime: 7 },
        // The provider adds the `hidden-link:<component>` tag that ties the test to its component.
      });
      this.webTests.push(test);
      new MonitorMetricAlert(this, `uptime-${slug}-alert`, {
        name: `${props.name}-${slug}-down`,
        resourceGroupName,
        scopes: [test.id, this.insights.id],
        description: `https://${target.host}${target.path} fails from ${FAILED_LOCATIONS_TO_ALERT} or more locations. Runbook: ${runbookUrl(CLOUD_ALARMS.uptimeCheckFailing)}`,
        severity: 1,
        frequency: "PT1M",
        windowSize: "PT5M",
        applicationInsightsWebTestLocationAvailabilityCriteria: { webTestId: test.id, componentId: this.insights.id, failedLocationCount: FAILED_LOCATIONS_TO_ALERT },
        action: [{ actionGroupId: props.actionGroupId }],
      });
    }

    const ns = IN_CLUSTER.alertmanager.namespace;
    this.heartbeat = logAlert(this, "heartbeat", {
      name: `${props.name}-monitoring-heartbeat-silent`,
      location,
      resourceGroupName,
      scope: props.clusterId,
      description: `No running Prometheus or Alertmanager in the cluster for ${HEARTBEAT_SILENCE_MINUTES} minutes, or the cluster stopped reporting. Runbook: ${runbookUrl(CLOUD_ALARMS.heartbeatSilent)}`,
      query: [
        "KubePodInventory",
        `| where TimeGenerated > ago(${HEARTBEAT_SILENCE_MINUTES}m)`,
        `| where Namespace == "${ns}" and PodStatus == "Running"`,
        '| summarize Alertmanagers = dcountif(Name, Name startswith "alertmanager-"), Prometheuses = dcountif(Name, Name startswith "prometheus-")',
        "| extend Healthy = iff(Alertmanagers > 0 and Prometheuses > 0, 1, 0)",
      ].join("\n"),
      measure: "Healthy",
      operator: "LessThan",
      threshold: 1,
      frequency: "PT5M",
      window: "PT10M",
      severity: 0,
      actionGroupId: props.actionGroupId,
    });
  }
}
