import { readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXTERNAL_SECRETS_JOB, GATEWAY_JOB, PLATFORM_NAMESPACES } from "../constructs/addons/alert-rules";
import { externalSecretsMonitor, knativeMonitors, SCRAPED_PODS } from "../constructs/addons/alerting";
import { CHARTS, type ChartName } from "../constructs/addons/charts";
import { EXTERNAL_SECRETS_RELEASE } from "../constructs/addons/external-secrets";
import { manifestsOf, release, releaseValues, synthesizeAddons, type AddonsSynth } from "./addons-fixtures";

/** Labels and port names of the scraped pods, as their pinned upstream manifests give them. */
const upstream = JSON.parse(readFileSync(path.join(__dirname, "upstream", "scrape-targets.json"), "utf8"));

describe("the platform's own PodMonitors against the pods upstream installs", () => {
  const monitors = [...knativeMonitors("monitoring", ["production"]), externalSecretsMonitor("monitoring")] as any[];
  const byName = Object.fromEntries(monitors.map((m) => [m.metadata.name, m]));

  it.each([
    ["activator", "knative-activator"],
    ["gateway", GATEWAY_JOB],
    ["externalSecrets", EXTERNAL_SECRETS_JOB],
  ] as const)("%s: selects the pods by labels they carry, on a port they name, at the pinned version", (target, monitorName) => {
    const facts = upstream[target];
    expect(CHARTS[facts.chart as ChartName].version, `${target}: re-read ${facts.source} for the new version`).toBe(facts.chartVersion);
    const podLabels = Object.fromEntries(Object.entries<string>(facts.podLabels).map(([k, v]) => [k, v === "<release>" ? EXTERNAL_SECRETS_RELEASE : v]));
    const monitor = byName[monitorName];
    expect(monitor.spec.namespaceSelector.matchNames).toEqual([facts.namespace]);
    expect(podLabels).toMatchObject(monitor.spec.selector.matchLabels);
    const [endpoint] = monitor.spec.podMetricsEndpoints;
    expect(facts.containerPorts).toContain(endpoint.port);
    if (facts.metricsPath) expect(endpoint.path).toBe(facts.metricsPath);
    expect(SCRAPED_PODS[target].port).toBe(endpoint.port);
  });

  it("would notice a port the pods do not have", () => {
    expect(upstream.gateway.containerPorts).not.toContain("http-metrics");
    expect(upstream.externalSecrets.containerPorts).not.toContain("tcp-prometheus-servicemonitor");
  });
});

describe("PlatformTargetDown's namespaces", () => {
  let synth: AddonsSynth;
  beforeAll(() => (synth = synthesizeAddons()));

  /** Namespaces some monitor of the stack scrapes: the program's own, and those the charts' own monitors cover. */
  function scrapedNamespaces(stack: any): Set<string> {
    const scraped = new Set<string>();
    for (const object of manifestsOf(stack).filter((m) => m.kind === "PodMonitor" || m.kind === "ServiceMonitor")) {
      for (const name of object.spec.namespaceSelector?.matchNames ?? [object.metadata.namespace]) scraped.add(name);
    }
    const values = releaseValues(stack);
    // The charts that ship a monitor of their own, and the value that turns it on.
    const chartMonitors: [string, (v: any) => boolean][] = [
      ["kube-prometheus-stack", () => true],
      ["cert-manager", (v) => v.prometheus?.enabled === true && v.prometheus?.servicemonitor?.enabled === true],
      ["loki", (v) => v.monitoring?.serviceMonitor?.enabled === true],
      ["alloy-logs", (v) => v.serviceMonitor?.enabled === true],
    ];
    for (const [name, enabled] of chartMonitors) if (enabled(values[name])) scraped.add(release(stack, name).namespace);
    return scraped;
  }

  it.each(["aws", "azure"] as const)("%s: are each scraped by something, so that each can alert", (cloud) => {
    const scraped = scrapedNamespaces(synth[cloud]);
    for (const namespace of PLATFORM_NAMESPACES) expect([...scraped], namespace).toContain(namespace);
  });

  it("scrape cert-manager through the chart's own ServiceMonitor, keeping the certificates' namespace label", () => {
    const values = releaseValues(synth.aws)["cert-manager"];
    expect(upstream.certManager.chartVersion).toBe(CHARTS["cert-manager"].version);
    expect(values.prometheus).toEqual({ enabled: true, servicemonitor: { enabled: true, honorLabels: true } });
    // The chart's ServiceMonitor needs the monitoring stack's CRD.
    expect(release(synth.aws, "cert-manager").depends_on.join()).toContain("helm_release.monitoring_stack_release");
    expect(manifestsOf(synth.aws).filter((m) => m.kind === "ServiceMonitor" && m.metadata.namespace === "cert-manager")).toEqual([]);
  });
});
