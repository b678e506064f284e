import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { parser } from "@grafana/lezer-logql";
import Ajv from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../config";
import { logRetention } from "../config/logs";
import { ALERTMANAGER_URL } from "../constructs/addons/monitoring";
import { ALLOY_NODE_DATA, LOG_LABELS, eventsConfig, podLogsConfig, riverConfig } from "../constructs/addons/alloy";
import { LOG_ALERT_RULES_FILE, LOKI_HEALTH_RULES_FILE, LOKI_URL, readRuleGroups } from "../constructs/addons/loki";
import { IN_CLUSTER } from "../constructs/contract";
import { manifestsOf, release, releaseValues, synthesizeAddons, type AddonsSynth } from "./addons-fixtures";
import { problemOf } from "./support/config-problems";
import { sharedDataDir, skipNote } from "./support/environment";
import { resourcesOf, synthesize, type Synthesized } from "./support/synth";

const logRules = readRuleGroups(LOG_ALERT_RULES_FILE).groups.flatMap((group: any) => group.rules as any[]);

/** Names of the syntax error nodes the LogQL grammar finds in an expression. */
function logqlErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({ enter: (node) => void (node.type.isError && errors.push(`error at ${node.from}`)) });
  return errors;
}

describe("log alert rules (Loki's ruler)", () => {
  it("are LogQL the grammar accepts, and the grammar refuses broken LogQL", () => {
    expect(logRules.length).toBeGreaterThanOrEqual(2);
    for (const rule of logRules) expect(logqlErrors(rule.expr), rule.alert).toEqual([]);
    expect(logqlErrors('sum by (app) (count_over_time({app="web"} |= "x" [5m]) >')).not.toEqual([]);
  });

  it("count lines per environment and application over five minutes, above a threshold", () => {
    for (const rule of logRules) {
      const expr = rule.expr.replace(/\s+/g, " ").trim();
      expect(expr, rule.alert).toMatch(/^sum by \(environment, namespace, app\) \( count_over_time\(\{.*\}.* \[5m\]\) \) > \d+$/);
      // Only applications: a selector the platform's own namespaces cannot match.
      expect(expr, rule.alert).toContain('environment=~".+", environment!="platform"');
    }
  });

  it("catch error-level lines and Python tracebacks", () => {
    const errors = logRules.find((rule) => rule.alert === "ApplicationErrorLogs")!;
    const pattern = new RegExp(/\|~ `(.*)` \[5m\]/.exec(errors.expr.replace(/\s+/g, " "))![1]);
    for (const line of ["ERROR:    Exception in ASGI application", "2026-01-01 12:00:00 CRITICAL app: down", 'level=error msg="db"', '{"level": "error", "msg": "x"}']) {
      expect(pattern.test(line), line).toBe(true);
    }
    for (const line of ["INFO: 200 OK", "0 errors found", "level=info msg=error_count"]) expect(pattern.test(line), line).toBe(false);
    expect(logRules.find((rule) => rule.alert === "ApplicationExceptions")!.expr).toContain('|= "Traceback (most recent call last)"');
  });

  it("carry a severity and say what fired, where, and how to look", () => {
    for (const rule of logRules) {
      expect(rule.labels.severity, rule.alert).toMatch(/^(warning|critical)$/);
      expect(rule.annotations.summary, rule.alert).toContain("{{ $labels.app }}");
      expect(rule.annotations.summary, rule.alert).toContain("{{ $labels.environment }}");
      expect(rule.annotations.description, rule.alert).toContain("{{ $value }}");
    }
  });

  it("query only the labels the collector sets", () => {
    for (const rule of logRules) {
      const used = [...rule.expr.matchAll(/([a-z_]+)\s*(=~|!=|!~|=)\s*"/g)].map((m) => m[1]);
      for (const label of used) expect(LOG_LABELS, `${rule.alert}: ${label}`).toContain(label);
    }
  });
});

const promtool = spawnSync("promtool", ["--version"], { encoding: "utf8" });
const promtoolAvailable = { available: promtool.status === 0, reason: "promtool is not installed (apt-get install prometheus)" };

describe.skipIf(!promtoolAvailable.available)(`Loki's health rules (Prometheus)${skipNote(promtoolAvailable)}`, () => {
  it("pass promtool check rules", () => {
    const run = spawnSync("promtool", ["check", "rules", LOKI_HEALTH_RULES_FILE], { encoding: "utf8" });
    expect(run.stdout + run.stderr).toContain("SUCCESS: 7 rules found");
    expect(run.status).toBe(0);
  });

  it("fire as their unit tests expect (promtool test rules)", () => {
    const run = spawnSync("promtool", ["test", "rules", path.join(path.dirname(LOKI_HEALTH_RULES_FILE), "loki.rules.test.yaml")], { encoding: "utf8" });
    expect(run.stdout + run.stderr).toContain("SUCCESS");
    expect(run.status).toBe(0);
  });
});

describe("the logs add-on on both clouds", () => {
  let synth: AddonsSynth;
  beforeAll(() => (synth = synthesizeAddons()));
  afterAll(() => synth.cleanup());
  const stackOf = (cloud: "aws" | "azure") => (cloud === "aws" ? synth.aws : synth.azure);
  const contractOf = (cloud: "aws" | "azure") => (cloud === "aws" ? synth.awsContract : synth.azureContract);

  describe.each(["aws", "azure"] as const)("%s", (cloud) => {
    const loki = () => releaseValues(stackOf(cloud)).loki;

    it("runs Loki as one binary in monitoring, on the platform's storage, with the contract's identity", () => {
      const values = loki();
      expect(release(stackOf(cloud), "loki")).toMatchObject({ namespace: "monitoring", chart: "loki", version: "7.3.0" });
      expect(values.deploymentMode).toBe("SingleBinary");
      expect(values.singleBinary.replicas).toBe(1);
      expect({ write: values.write.replicas, read: values.read.replicas, backend: values.backend.replicas }).toEqual({ write: 0, read: 0, backend: 0 });
      expect(values.loki.storage).toEqual(contractOf(cloud).logStore.lokiStorage);
      expect(values.serviceAccount).toMatchObject({ name: IN_CLUSTER.logs.serviceAccount, annotations: contractOf(cloud).logStore.identity.serviceAccountAnnotations });
      expect(values.loki.podLabels).toEqual(contractOf(cloud).logStore.identity.podLabels);
      expect(values.loki.schemaConfig.configs).toEqual([
        { from: "2025-01-01", store: "tsdb", object_store: contractOf(cloud).logStore.objectStore, schema: "v13", index: { prefix: "index_", period: "24h" } },
      ]);
    });

    it("enforces retention with the compactor: the default, and production's own by namespace", () => {
      const values = loki();
      expect(values.loki.compactor).toMatchObject({ retention_enabled: true, delete_request_store: contractOf(cloud).logStore.objectStore });
      expect(values.loki.limits_config.retention_period).toBe("720h");
      expect(values.loki.limits_config.retention_stream).toEqual([{ selector: '{namespace="production"}', priority: 1, period: "2160h" }]);
    });

    it("limits ingestion so one noisy application cannot take Loki down", () => {
      expect(loki().loki.limits_config).toMatchObject({
        ingestion_rate_mb: 8,
        ingestion_burst_size_mb: 16,
        per_stream_rate_limit: "3MB",
        max_line_size: "256KB",
        max_line_size_truncate: true,
      });
    });

    it("evaluates the repository's log rules and sends alerts to kube-prometheus-stack's Alertmanager", () => {
      const values = loki();
      expect(values.loki.rulerConfig).toMatchObject({ storage: { type: "local", local: { directory: "/rules" } }, alertmanager_url: ALERTMANAGER_URL });
      expect(ALERTMANAGER_URL).toBe(`http://${release(stackOf(cloud), "kube-prometheus-stack").name}-alertmanager.monitoring.svc.cluster.local:9093`);
      expect(values.sidecar.rules).toMatchObject({ enabled: true, label: "loki_rule", folder: "/rules/fake", searchNamespace: ["monitoring"] });
      const [configMap] = Object.values<any>(resourcesOf(stackOf(cloud), "kubernetes_config_map_v1")).filter((c) => c.metadata.name === "log-alert-rules");
      expect(configMap.metadata).toMatchObject({ name: "log-alert-rules", namespace: "monitoring", labels: { loki_rule: "" } });
      expect(configMap.data["application-logs.loki.yaml"]).toBe(readFileSync(LOG_ALERT_RULES_FILE, "utf8"));
    });

    it("installs Loki's health rules as a PrometheusRule after the monitoring stack", () => {
      const rule = manifestsOf(stackOf(cloud)).find((m) => m.kind === "PrometheusRule" && m.metadata.name === "loki");
      expect(rule.spec).toEqual(readRuleGroups(LOKI_HEALTH_RULES_FILE));
      expect(release(stackOf(cloud), "loki-health-rules").depends_on.join()).toContain("helm_release.monitoring_stack_release");
    });

    it("collects pod logs on every node and events once, into Loki", () => {
      const values = releaseValues(stackOf(cloud));
      expect(values["alloy-logs"].controller.type).toBe("daemonset");
      expect(values["alloy-logs"].alloy.mounts.varlog).toBe(true);
      expect(values["alloy-logs"].alloy.configMap.content).toBe(podLogsConfig(["develop", "staging", "production"]));
      expect(values["alloy-events"].controller).toEqual({ type: "deployment", replicas: 1 });
      expect(values["alloy-events"].alloy.configMap.content).toContain('loki.source.kubernetes_events "cluster"');
    });

    it("keeps the collector's read positions on the node, so a restart resumes where it stopped", () => {
      const collector = releaseValues(stackOf(cloud))["alloy-logs"];
      // The chart passes storagePath as Alloy's --storage.path, where loki.source.file keeps its positions.
      expect(collector.alloy.storagePath).toBe(ALLOY_NODE_DATA.mountPath);
      expect(collector.alloy.mounts.extra).toEqual([{ name: ALLOY_NODE_DATA.volume, mountPath: collector.alloy.storagePath }]);
      expect(collector.controller.volumes.extra).toEqual([{ name: ALLOY_NODE_DATA.volume, hostPath: { path: ALLOY_NODE_DATA.hostPath, type: "DirectoryOrCreate" } }]);
      // Not the chart's default, which lives and dies with the container.
      expect(collector.alloy.storagePath).not.toMatch(/^\/tmp\//);
    });

    it("lets Loki's rules sidecar read ConfigMaps of its own namespace only", () => {
      const values = loki();
      // The chart's ClusterRole grants get/list/watch on every ConfigMap and Secret of the cluster unless namespaced.
      expect(values.rbac).toEqual({ namespaced: true });
      expect(values.sidecar.rules.searchNamespace).toEqual([IN_CLUSTER.logs.namespace]);
    });

    it("provisions Loki as a Grafana data source", () => {
      const grafana = releaseValues(stackOf(cloud))["kube-prometheus-stack"].grafana;
      expect(grafana.additionalDataSources).toEqual([expect.objectContaining({ name: "Loki", type: "loki", url: LOKI_URL, access: "proxy" })]);
      expect(LOKI_URL).toBe("http://loki.monitoring.svc.cluster.local:3100");
    });
  });
});

describe("Alloy's pipelines", () => {
  const config = podLogsConfig(["develop", "staging", "production"]);

  it("label every line with namespace, pod, container, app and environment", () => {
    for (const label of LOG_LABELS) expect(config).toContain(`target_label  = "${label}"`);
  });

  it("reads only its own node's pods, from the kubelet's log files", () => {
    expect(config).toContain('field = "spec.nodeName=" + sys.env("HOSTNAME")');
    expect(config).toContain('replacement   = "/var/log/pods/*$1/*.log"');
    expect(config).toContain("stage.cri {}");
  });

  it("names environments by their namespaces and everything else platform", () => {
    expect(config).toContain('regex         = "(develop|staging|production)"');
    expect(config).toContain('replacement  = "platform"');
    expect(eventsConfig(["qa"])).toContain('regex         = "(qa)"');
  });

  it("pushes to Loki's service", () => {
    expect(config).toContain(`url = "${LOKI_URL}/loki/api/v1/push"`);
  });

  it("fill every placeholder of their River files, and fail the synth on one left or one unknown", () => {
    for (const text of [config, eventsConfig(["qa"])]) expect(text).not.toMatch(/\{\{|\}\}/);
    expect(() => riverConfig("events.alloy", { LOKI_URL })).toThrow("events.alloy: no value for {{ENVIRONMENT_RULES}}");
    expect(() => riverConfig("events.alloy", { LOKI_URL, ENVIRONMENT_RULES: "", NAMESPACE: "x" })).toThrow("events.alloy: no placeholder {{NAMESPACE}}");
  });
});

describe("log retention", () => {
  it("is 30 days by default, with the storage lifecycle one day past the longest retention", () => {
    const config = loadConfig();
    expect(logRetention(config)).toEqual({ defaultDays: 30, byNamespace: { production: 90 }, storageExpiryDays: 91 });
    expect(logRetention({ ...config, environments: config.environments.map((env) => ({ ...env, logRetentionDays: undefined })) }).storageExpiryDays).toBe(31);
  });

  it.each([
    { name: "no days", change: (r: any) => (r.logs = { retentionDays: 0 }), path: "logs.retentionDays", value: 0 },
    { name: "an environment's negative days", change: (r: any) => (r.environments[0].logRetentionDays = -1), path: "environments[0].logRetentionDays", value: -1 },
  ])("refuses $name", ({ change, path: at, value }) => {
    const problem = problemOf(change);
    expect(problem).toMatchObject({ path: at, value });
    expect(problem.message).toContain("1");
  });

  it("refuses a burst below the rate, naming the field and the rate", () => {
    expect(problemOf((r) => (r.logs = { limits: { ingestionRateMb: 10, ingestionBurstMb: 5 } }))).toMatchObject({
      path: "logs.limits.ingestionBurstMb",
      value: 5,
      message: "must be at least ingestionRateMb (10)",
    });
  });
});

const shared = sharedDataDir();

describe.skipIf(!shared.available)(`Loki's values against the chart's values.schema.json${skipNote(shared)}`, () => {
  let synth: AddonsSynth;
  beforeAll(() => (synth = synthesizeAddons()));
  afterAll(() => synth.cleanup());

  it.each(["aws", "azure"] as const)("%s values are valid for loki 7.3.0 merged over its defaults", (cloud) => {
    const dir = path.join(shared.dir!, "charts", "loki-7.3.0");
    // Draft-07 is Ajv's default; its meta-schema address differs only by scheme.
    const { $schema: _, ...schema } = JSON.parse(readFileSync(path.join(dir, "values.schema.json"), "utf8"));
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(schema);
    const values = releaseValues(cloud === "aws" ? synth.aws : synth.azure).loki;
    const merged = { ...parse(readFileSync(path.join(dir, "values.yaml"), "utf8")), ...values, loki: { ...parse(readFileSync(path.join(dir, "values.yaml"), "utf8")).loki, ...values.loki } };
    const ok = validate(merged);
    expect(ok ? [] : validate.errors!.map((e) => `${e.instancePath}: ${e.message}`)).toEqual([]);
  });
});

describe("no storage credential anywhere in the synthesized program", () => {
  let synth: Synthesized;
  beforeAll(() => (synth = synthesize()));
  afterAll(() => synth.cleanup());

  /** Every file under cdktf.out, assets included. */
  function allFiles(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const file = path.join(dir, name);
      return statSync(file).isDirectory() ? allFiles(file) : [file];
    });
  }

  it("has no access key, account key, connection string or SAS, nor a reference to one", () => {
    const files = allFiles(synth.outdir);
    expect(files.length).toBeGreaterThan(16);
    const forbidden = [
      /primary_access_key|secondary_access_key|primary_connection_string|secondary_connection_string|primary_blob_connection_string/,
      /AccountKey=|SharedAccessSignature|sig=[A-Za-z0-9%]{20,}/,
      /"(account_key|accountKey|connection_string|connectionString|secret_access_key|secretAccessKey|access_key_id|accessKeyId)"\s*:\s*"[^"]/,
      /(accountKey|connectionString|secretAccessKey|accessKeyId):\s*\S/,
      /aws_iam_access_key|azurerm_storage_account_sas|data_azurerm_storage_account_sas/,
      /AKIA[0-9A-Z]{16}/,
    ];
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      for (const pattern of forbidden) expect(pattern.test(text), `${path.relative(synth.outdir, file)} matches ${pattern}`).toBe(false);
    }
  });

  it("would notice a key if one were there", () => {
    const leaked = 'loki:\n  storage:\n    azure:\n      accountKey: c2VjcmV0\n';
    expect(/(accountKey|connectionString|secretAccessKey|accessKeyId):\s*\S/.test(leaked)).toBe(true);
  });
});
