import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { validateConfig, type PlatformConfig } from "../config";
import { CHARTS } from "../constructs/addons/charts";
import { CENTRAL_GRAFANA_ADMIN_SECRET, CENTRAL_GRAFANA_RELEASE } from "../constructs/addons/central-grafana";
import { CI_RUNNER_CONTROLLER_RELEASE, GITHUB_APP_SECRET } from "../constructs/addons/ci-runners";
import { LOKI_URL } from "../constructs/addons/loki";
import { PROMETHEUS_URL } from "../constructs/addons/monitoring";
import { toolsClusterRules } from "../constructs/addons/tools-rules";
import { IN_CLUSTER } from "../constructs/contract";
import { manifestsOf, release, releaseValues } from "./addons-fixtures";
import { problemOf } from "./support/config-problems";
import { chartCell, releaseRows, tableAfter } from "./support/markdown-tables";
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

  it.each(["aws", "azure"])("%s: are the releases docs/addons.md lists for a tools cluster, with their charts and namespaces", (cloud) => {
    const releases = (id: string) => new Map(Object.values<any>(synth.stack(id).resource?.helm_release ?? {}).map((r) => [r.name, r]));
    const workload = releases(`${cloud}-prod-addons`);
    const extra = [...releases(`${cloud}-tools-addons`)].filter(([name]) => !workload.has(name));
    // The scale set's release is named <project>-<cluster>.
    const documented = releaseRows(tableAfter(readFileSync(path.join(__dirname, "..", "docs", "addons.md"), "utf8"), "A cluster with `role: tools`"));
    const named = (name: string) => (name === `${config.project}-tools` ? "<project>-<cluster>" : name);
    expect(extra.map(([name]) => named(name)).sort()).toEqual([...documented.keys()].sort());
    for (const [name, release] of extra) {
      const row = documented.get(named(name));
      expect({ name, chart: row?.chart, namespace: row?.namespace }).toEqual({ name, chart: chartCell(release), namespace: release.namespace });
    }
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

describe("a tools cluster's alerts on itself", () => {
  it("run on the tools cluster only, as a PrometheusRule in monitoring", () => {
    const { synth } = toolsProgram();
    const rules = (id: string) => manifestsOf(synth.stack(id)).filter((m) => m.kind === "PrometheusRule" && m.metadata.name === "platform-tools");
    expect(rules("aws-tools-addons").map((m) => m.spec.groups[0].rules.map((r: any) => r.alert))).toEqual([["CiRunnerControllerDown", "CiRunnerListenerDown", "CentralGrafanaDown"]]);
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
    const cases = [
      ["CiRunnerControllerDown", "no replica", [controller("0x30")], expected("CiRunnerControllerDown", { namespace: arc })],
      ["CiRunnerControllerDown", "gone", [], expected("CiRunnerControllerDown", { namespace: arc })],
      ["CiRunnerControllerDown", "one replica", [controller("1x30")], []],
      ["CiRunnerListenerDown", "not ready", [listener("0x30")], expected("CiRunnerListenerDown", { namespace: arc })],
      ["CiRunnerListenerDown", "ready", [listener("1x30")], []],
      ["CentralGrafanaDown", "down", [grafana("0x30")], expected("CentralGrafanaDown", { namespace: "monitoring" })],
      ["CentralGrafanaDown", "up", [grafana("1x30")], []],
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
    const own = ["ExternalSecret/github-app", `ExternalSecret/${CENTRAL_GRAFANA_ADMIN_SECRET}`, "PrometheusRule/platform-tools"];
    const manifests = manifestsOf(synth.stack(`${cloud}-tools-addons`)).filter((m) => own.includes(`${m.kind}/${m.metadata.name}`));
    expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual([...own].sort());
    for (const manifest of manifests) {
      const label = `${manifest.kind}/${manifest.metadata.name}`;
      expect(validator.validate(manifest), label).toEqual([]);
      expect(undeclaredFields(manifest, JSON.parse(readFileSync(schemaFile(manifest), "utf8"))), label).toEqual([]);
    }
  });
});
