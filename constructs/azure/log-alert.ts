import { MonitorScheduledQueryRulesAlertV2 } from "@cdktf/provider-azurerm/lib/monitor-scheduled-query-rules-alert-v2";
import type { ITerraformDependable } from "cdktf";
import type { Construct } from "constructs";

export interface LogAlertProps {
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  /** The resource whose logs the query reads (a resource-centric query sees only its rows). */
  readonly scope: string;
  readonly description: string;
  /** A KQL query ending in a `summarize` of one row, so that no data still yields a number. */
  readonly query: string;
  /** The summarized column compared with the threshold. */
  readonly measure: string;
  readonly operator: "LessThan" | "GreaterThan";
  readonly threshold: number;
  /** ISO 8601: how often the query runs and how far back Azure lets it look. */
  readonly frequency: string;
  readonly window: string;
  /** 0 (critical) to 4 (verbose). */
  readonly severity: number;
  /** Action groups notified, in this order. */
  readonly actionGroupIds: readonly string[];
  /** What must exist first, e.g. the diagnostic setting that fills the queried table. */
  readonly dependsOn?: ITerraformDependable[];
}

/** A scheduled log query alert to the action group, resolving itself when the condition clears. */
export function logAlert(scope: Construct, id: string, props: LogAlertProps): MonitorScheduledQueryRulesAlertV2 {
  return new MonitorScheduledQueryRulesAlertV2(scope, id, {
    name: props.name,
    location: props.location,
    resourceGroupName: props.resourceGroupName,
    scopes: [props.scope],
    description: props.description,
    severity: props.severity,
    evaluationFrequency: props.frequency,
    windowDuration: props.window,
    autoMitigationEnabled: true,
    criteria: [
      {
        query: props.query,
        timeAggregationMethod: "Total",
        metricMeasureColumn: props.measure,
        operator: props.operator,
        threshold: props.threshold,
        failingPeriods: { minimumFailingPeriodsToTriggerAlert: 1, numberOfEvaluationPeriods: 1 },
      },
    ],
    action: { actionGroups: [...props.actionGroupIds] },
    // Azure validates the query against the scope's tables when the rule is
    // created, and a table exists only once its first row arrives: minutes
    // after the cluster's first logs, a day after a vault's first backup job
    // (docs/azure.md, "Log alerts on a first deploy").
    skipQueryValidation: true,
    dependsOn: props.dependsOn,
  });
}
