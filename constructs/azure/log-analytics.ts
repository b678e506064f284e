import { LogAnalyticsWorkspace } from "@cdktf/provider-azurerm/lib/log-analytics-workspace";
import { MonitorActionGroup } from "@cdktf/provider-azurerm/lib/monitor-action-group";
import { Construct } from "constructs";

export interface LogAnalyticsProps {
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  /** Receivers of every alert routed to the action group. */
  readonly alertEmails: string[];
  /**
   * The pager's e-mail integration address, for the alerts that page.
   * @default - no pager: no second action group
   */
  readonly pageEmail?: string;
  /**
   * Days logs are kept in the workspace.
   * @default 30
   */
  readonly retentionDays?: number;
}

/** The Log Analytics workspace the cluster reports to, the action group alerts go to, and the pager's. */
export class LogAnalytics extends Construct {
  readonly workspace: LogAnalyticsWorkspace;
  readonly actionGroup: MonitorActionGroup;
  /** The pager, for the alerts that must wake someone: a mail to its e-mail integration, so no key is stored. */
  readonly pagesActionGroup?: MonitorActionGroup;

  constructor(scope: Construct, id: string, props: LogAnalyticsProps) {
    super(scope, id);
    this.workspace = new LogAnalyticsWorkspace(this, "workspace", {
      name: `${props.name}-logs`,
      location: props.location,
      resourceGroupName: props.resourceGroupName,
      sku: "PerGB2018",
      retentionInDays: props.retentionDays ?? 30,
      // Agents authenticate with managed identities; no workspace keys.
      localAuthenticationEnabled: false,
    });

    this.actionGroup = new MonitorActionGroup(this, "action-group", {
      name: `${props.name}-alerts`,
      resourceGroupName: props.resourceGroupName,
      // Azure's limit for the SMS/e-mail sender name.
      shortName: props.name.replace(/[^a-zA-Z0-9]/g, "").slice(0, 12),
      emailReceiver: props.alertEmails.map((emailAddress, i) => ({ name: `email-${i}`, emailAddress, useCommonAlertSchema: true })),
    });
    if (props.pageEmail) {
      this.pagesActionGroup = new MonitorActionGroup(this, "pages-action-group", {
        name: `${props.name}-pages`,
        resourceGroupName: props.resourceGroupName,
        shortName: `${props.name.replace(/[^a-zA-Z0-9]/g, "").slice(0, 6)}pages`,
        // The pager opens an incident from the subject; the common schema's would be generic.
        emailReceiver: [{ name: "pager", emailAddress: props.pageEmail, useCommonAlertSchema: false }],
      });
    }
  }
}
