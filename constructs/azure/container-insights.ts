import { MonitorDataCollectionRule } from "@cdktf/provider-azurerm/lib/monitor-data-collection-rule";
import { MonitorDataCollectionRuleAssociation } from "@cdktf/provider-azurerm/lib/monitor-data-collection-rule-association";
import { Construct } from "constructs";

/**
 * What Container Insights collects: inventories, events, performance and
 * ContainerLogV2 (the v1 `Microsoft-ContainerLog` stream would store every
 * log line twice).
 */
export const CONTAINER_INSIGHTS_STREAMS = [
  "Microsoft-ContainerLogV2",
  "Microsoft-KubeEvents",
  "Microsoft-KubePodInventory",
  "Microsoft-KubeNodeInventory",
  "Microsoft-KubePVInventory",
  "Microsoft-KubeServices",
  "Microsoft-KubeMonAgentEvents",
  "Microsoft-InsightsMetrics",
  "Microsoft-ContainerInventory",
  "Microsoft-ContainerNodeInventory",
  "Microsoft-Perf",
];

/** The association name the monitoring add-on looks for. */
export const CONTAINER_INSIGHTS_ASSOCIATION = "ContainerInsightsExtension";

export interface ContainerInsightsProps {
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  readonly clusterId: string;
  readonly workspaceId: string;
  /**
   * How often the agent collects inventories and metrics.
   * @default "1m"
   */
  readonly interval?: string;
}

/**
 * The data collection rule and its association that make the monitoring
 * add-on's agent send to the workspace. With managed-identity auth the agent
 * reads its configuration from the rule associated with the cluster; without
 * one it runs and sends nothing.
 */
export class ContainerInsights extends Construct {
  readonly rule: MonitorDataCollectionRule;
  readonly association: MonitorDataCollectionRuleAssociation;

  constructor(scope: Construct, id: string, props: ContainerInsightsProps) {
    super(scope, id);
    const destination = "workspace";

    this.rule = new MonitorDataCollectionRule(this, "rule", {
      // The portal's naming (MSCI-<region>-<cluster>), so the rule is recognisable there.
      name: `MSCI-${props.location}-${props.name}`.slice(0, 64),
      location: props.location,
      resourceGroupName: props.resourceGroupName,
      description: `Container Insights of ${props.name}`,
      destinations: { logAnalytics: [{ name: destination, workspaceResourceId: props.workspaceId }] },
      dataFlow: [{ streams: CONTAINER_INSIGHTS_STREAMS, destinations: [destination] }],
      dataSources: {
        extension: [
          {
            name: CONTAINER_INSIGHTS_ASSOCIATION,
            extensionName: "ContainerInsights",
            streams: CONTAINER_INSIGHTS_STREAMS,
            extensionJson: JSON.stringify({
              dataCollectionSettings: { interval: props.interval ?? "1m", namespaceFilteringMode: "Off", enableContainerLogV2: true },
            }),
          },
        ],
      },
    });

    this.association = new MonitorDataCollectionRuleAssociation(this, "association", {
      name: CONTAINER_INSIGHTS_ASSOCIATION,
      targetResourceId: props.clusterId,
      dataCollectionRuleId: this.rule.id,
      description: "Container Insights of the cluster: deleting it stops every container log and metric reaching the workspace.",
    });
  }
}
