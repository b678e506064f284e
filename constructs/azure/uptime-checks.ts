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
/** Minutes without a Watchdog before the heartbeat alert. */
export const HEARTBEAT_SILENCE_MINUTES = 10;

export interface AzureUptimeChecksProps {
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  readonly workspaceId: string;
  readonly actionGroupId: string;
  /**
   * The pager's action group, added to the alerts that page: the heartbeat,
   * and the uptime checks of `pagedEnvironments`.
   * @default - no pager
   */
  readonly pageActionGroupId?: string;
  /** Environments whose uptime checks page. */
  readonly pagedEnvironments: readonly string[];
  /** The AKS cluster, whose Container Insights logs the heartbeat reads. */
  readonly clusterId: string;
  readonly uptimeTargets: UptimeTarget[];
}

/**
 * What watches the platform from outside the cluster on Azure: a standard
 * web test and availability alert per exposed application, and the
 * monitoring's dead man's switch. Alertmanager cannot deliver a Watchdog to
 * Azure Monitor without a stored credential, so it delivers it inside the
 * cluster, to a sink that logs a line per Watchdog, and Container Insights
 * carries those lines to Log Analytics. When none has arrived for 10
 * minutes (Prometheus stopped evaluating, Alertmanager stopped notifying, or
 * the cluster stopped reporting) the query finds nothing and the alert fires.
 */
export class AzureUptimeChecks extends Construct {
  readonly insights: ApplicationInsights;
  readonly webTests: ApplicationInsightsStandardWebTest[] = [];
  readonly heartbeat: MonitorScheduledQueryRulesAlertV2;

  constructor(scope: Construct, id: string, props: AzureUptimeChecksProps) {
    super(scope, id);
    const { location, resourceGroupName } = props;
    const mail = [props.actionGroupId];
    const pages = props.pageActionGroupId ? [props.actionGroupId, props.pageActionGroupId] : mail;
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
        action: (props.pagedEnvironments.includes(target.environment) ? pages : mail).map((actionGroupId) => ({ actionGroupId })),
      });
    }

    const sink = IN_CLUSTER.watchdogSink;
    this.heartbeat = logAlert(this, "heartbeat", {
      name: `${props.name}-monitoring-heartbeat-silent`,
      location,
      resourceGroupName,
      scope: props.clusterId,
      description: `No Watchdog from Alertmanager for ${HEARTBEAT_SILENCE_MINUTES} minutes: Prometheus, Alertmanager or the cluster has stopped. Runbook: ${runbookUrl(CLOUD_ALARMS.heartbeatSilent)}`,
      query: heartbeatQuery(sink, HEARTBEAT_SILENCE_MINUTES),
      measure: "Deliveries",
      operator: "LessThan",
      threshold: 1,
      frequency: "PT5M",
      window: "PT10M",
      severity: 0,
      actionGroupIds: pages,
    });
  }
}

/**
 * The Watchdogs the sink logged in the last `minutes`: Container Insights
 * keeps each container line in ContainerLogV2, and the sink's line names its
 * echo component and holds Alertmanager's notification, which names the alert.
 */
export function heartbeatQuery(sink: { readonly namespace: string; readonly name: string; readonly logMarker: string }, minutes: number): string {
  return [
    "ContainerLogV2",
    `| where TimeGenerated > ago(${minutes}m)`,
    `| where PodNamespace == "${sink.namespace}" and PodName startswith "${sink.name}-"`,
    `| where tostring(LogMessage) contains "${sink.logMarker}" and tostring(LogMessage) contains "Watchdog"`,
    "| summarize Deliveries = count()",
  ].join("\n");
}
