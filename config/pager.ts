import { z } from "zod";
import { email } from "./common";

/** The pagers Alertmanager can page through with a key read from a file. */
export const PAGER_SERVICES = ["pagerduty", "opsgenie", "slack"] as const;
export type PagerService = (typeof PAGER_SERVICES)[number];

/** The secret, in the cloud's secret store, holding the pager's key or webhook URL: `<project>-platform-` and this. */
export const PAGER_SECRET_SUFFIX = "alertmanager-pager";

export const pagerSchema = z
  .object({
    service: z
      .enum(PAGER_SERVICES)
      .describe(
        "How Alertmanager pages production's critical alerts: pagerduty (Events API v2), opsgenie, or slack (an incoming webhook). " +
          `Its routing key, API key or webhook URL is the secret <project>-platform-${PAGER_SECRET_SUFFIX} in the cloud's secret store, never in this file.`,
      ),
    email: email.describe(
      "The pager's e-mail integration address (a PagerDuty or Opsgenie e-mail integration, a Slack or Teams channel address). " +
        "The cloud alarms that page (the monitoring heartbeat, production's uptime checks) mail it: no key passes through Terraform.",
    ),
    url: z
      .url({ protocol: /^https$/, message: "an https URL" })
      .regex(/^https:\/\/[^/\s]+/, { message: "an https URL", abort: true })
      .regex(/^[\x21-\x7e]+$/, { message: "printable ASCII only: a look-alike or invisible character would send pages to another host" })
      .optional()
      .describe("The pager's API when not its default: PagerDuty's EU events API https://events.eu.pagerduty.com/v2/enqueue, Opsgenie's EU API https://api.eu.opsgenie.com/."),
  })
  .strict();

export type PagerConfig = z.output<typeof pagerSchema>;
