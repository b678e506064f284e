import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config";
import { alertRuleGroups } from "../constructs/addons/alert-rules";
import { certificateRules } from "../constructs/addons/cert-manager";
import { toolsClusterRules } from "../constructs/addons/tools-rules";
import { CLOUD_ALARMS } from "../constructs/common/runbook";

const doc = readFileSync(path.join(__dirname, "..", "docs", "alerting.md"), "utf8");
const config = loadConfig();
const ruleAlerts = new Set(
  alertRuleGroups({ environments: config.environments, node: config.alerts.node, webhooks: { proxyNamespace: "flux-webhooks", jobNamespace: "registry-webhooks" } }).flatMap((g) => g.rules.map((r) => r.alert)),
);
const certificateAlerts = (certificateRules().spec as any).groups.flatMap((g: any) => g.rules.map((r: any) => r.alert as string));
const toolsAlerts = toolsClusterRules().rules.map((r) => r.alert);
const allAlerts = new Set([...ruleAlerts, ...certificateAlerts, ...toolsAlerts, ...Object.values(CLOUD_ALARMS)]);

/** Rows of the criteria table: the criterion and the alerts named in backticks. */
function criteriaTable(): { criterion: string; alerts: string[] }[] {
  const section = doc.split("## The operators' criteria")[1].split("\n## ")[0];
  return section
    .split("\n")
    .filter((line) => line.startsWith("| ") && !line.startsWith("| Criterion") && !line.startsWith("| ---"))
    .map((line) => {
      const [criterion, alerts] = line.split("|").slice(1, 3).map((cell) => cell.trim());
      return { criterion, alerts: [...alerts.matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]) };
    });
}

/** What the criteria table leaves out (alerts it never names) and what it names that does not exist. */
function tableDisagreements(table: { alerts: string[] }[], alerts: ReadonlySet<string>): { unnamed: string[]; unknown: string[] } {
  const named = table.flatMap((row) => row.alerts);
  return { unnamed: [...alerts].filter((alert) => !named.includes(alert)), unknown: named.filter((alert) => !alerts.has(alert)) };
}

describe("docs/alerting.md and the alerts agree", () => {
  it("maps every criterion the operators wrote down", () => {
    expect(criteriaTable().map((row) => row.criterion)).toEqual([
      "500 or exceptions from FastAPI",
      "Database backups haven't run",
      "CPU or memory are full on node",
      "CrashLoop / database migration is stuck",
      "External uptime checker: external accessibility, backend health endpoint",
      "An endpoint that checks that the monitoring is healthy",
      "The platform's own health",
      "Application object storage refuses or fails requests",
    ]);
  });

  it("names only alerts that exist, and every alert at least once", () => {
    expect(tableDisagreements(criteriaTable(), allAlerts)).toEqual({ unnamed: [], unknown: [] });
    for (const row of criteriaTable()) expect(row.alerts.length, row.criterion).toBeGreaterThan(0);
  });

  it("has a runbook entry, and only one, for every alert", () => {
    const runbook = doc.split("## Runbook")[1];
    const headings = [...runbook.matchAll(/^### (\S+)$/gm)].map((m) => m[1]);
    expect([...headings].sort()).toEqual([...allAlerts].sort());
  });

  it("the same check catches an alert the docs do not know, and a row naming one that is gone", () => {
    expect(tableDisagreements(criteriaTable(), new Set([...allAlerts, "SomethingNew"]))).toEqual({ unnamed: ["SomethingNew"], unknown: [] });
    const [first, ...rest] = [...allAlerts];
    expect(tableDisagreements(criteriaTable(), new Set(rest))).toEqual({ unnamed: [], unknown: [first] });
  });
});
