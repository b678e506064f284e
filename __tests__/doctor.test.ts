import { describe, expect, it } from "vitest";
import { doctorConfig, find, notOk, rows, runScenario } from "./support/doctor-fakes";
import { exitCode } from "../tools/doctor/report";

/** `status: evidence` of the findings of one check. */
const seen = async (scenario: Parameters<typeof runScenario>[0], cloud: "aws" | "azure", check: string | RegExp) => {
  const { reports } = await runScenario(scenario, cloud);
  return { reports, findings: find(reports, check).map((f) => `${f.status}: ${f.evidence}`) };
};

describe("a healthy platform, from recorded responses", () => {
  it.each(["aws", "azure"] as const)("%s: every check passes and the exit code is 0", async (cloud) => {
    const { reports } = await runScenario({}, cloud);
    const expectedSkips = cloud === "azure" ? ["skip cluster/node pools: the cloud's cluster autoscaler scales the node pools; no Karpenter NodePool to check"] : [];
    expect(notOk(reports)).toEqual(expectedSkips);
    expect(exitCode(reports)).toBe(0);
    // Every component reports, and every application host is checked three ways.
    expect(new Set(rows(reports).map((f) => f.component))).toEqual(new Set(["cluster", "gitops", "ingress", "monitoring", "data", "secrets"]));
    expect(find(reports, /^(web|api)\..*(DNS|HTTPS|HTTP→HTTPS)$/)).toHaveLength(6 * 3);
  });

  it("names each report after the cluster the platform stack's outputs name", async () => {
    const { reports } = await runScenario();
    expect(reports.map((r) => `${r.cloud}: ${r.cluster}`)).toEqual(["aws: acme-platform", "azure: acme-platform"]);
  });
});

describe("cluster and capacity", () => {
  it("a node not Ready is a warning naming it", async () => {
    const { findings } = await seen({ kubernetes: ["node-not-ready"] }, "aws", "nodes Ready");
    expect(findings).toEqual(["warn: 2/3 Ready; not Ready: ip-10-40-3-2001.eu-west-1.compute.internal"]);
  });

  it("a NodePool whose EC2NodeClass fails validation fails, with the class's reason", async () => {
    const { findings, reports } = await seen({ kubernetes: ["nodepool-not-ready"] }, "aws", "node pool general");
    expect(findings).toEqual([expect.stringMatching(/^fail: Ready=False \(NodeClassNotReady\).*EC2NodeClass default: Ready=False \(UnhealthyDependents\)/)]);
    expect(exitCode(reports)).toBe(1);
  });

  it("the last launch errors of a pool are shown from its NodeClaims and Karpenter's events", async () => {
    const { findings } = await seen({ kubernetes: ["nodepool-launch-failing"] }, "aws", "node pool general");
    expect(findings).toEqual([expect.stringMatching(/^warn: Ready, 1 nodes; last launch errors: general-q9w8e: Launched=False \(InsufficientCapacityError\)/)]);
  });

  it("metrics-server not answering fails", async () => {
    const { findings } = await seen({ kubernetes: ["metrics-unavailable"] }, "aws", "metrics-server");
    expect(findings).toEqual(["fail: metrics.k8s.io unavailable (503)"]);
  });

  it("an unreachable API server fails once; the checks that need it are skipped, the public and cloud ones still run", async () => {
    const { reports } = await runScenario({ apiUnreachable: true }, "aws");
    expect(find(reports, "API server").map((f) => f.status)).toEqual(["fail"]);
    expect(find(reports, "nodes Ready")).toEqual([expect.objectContaining({ status: "skip", evidence: "the cluster API cannot be reached (see API server)" })]);
    expect(find(reports, "zone records").map((f) => f.status)).toEqual(["ok"]);
    expect(find(reports, "heartbeat").map((f) => f.status)).toEqual(["ok"]);
    expect(find(reports, "web.apps.example.com HTTPS").map((f) => f.status)).toEqual(["ok"]);
  });

  it("a platform state without the cluster's name is one failed row that says what to do", async () => {
    const { reports } = await runScenario({ withoutOutputs: ["aws-platform.cluster_name"] }, "aws");
    expect(reports[0].findings).toEqual([
      { component: "cluster", check: "stack outputs", status: "fail", evidence: "aws-platform has no output cluster_name", next: "apply aws-platform with this version of the program" },
    ]);
  });

  it("an output added with the doctor but missing from an older state skips its check and says to apply the stack", async () => {
    const { reports } = await runScenario({ withoutOutputs: ["aws-platform.heartbeat_alarm"] }, "aws");
    expect(find(reports, "heartbeat")).toEqual([
      expect.objectContaining({ status: "skip", evidence: "aws-platform has no output heartbeat_alarm", next: "apply aws-platform with this version of the program: it adds the output" }),
    ]);
  });
});

describe("GitOps", () => {
  it("Flux installed by the Flux Operator: the FluxInstance's Ready and version", async () => {
    const { findings } = await seen({ kubernetes: ["fluxinstance-ready"] }, "aws", "Flux controllers");
    expect(findings).toEqual([expect.stringMatching(/^ok: FluxInstance flux Ready, v2\.8\.5@sha256:.*; 6 controllers available$/)]);
  });

  it("a FluxInstance that is not Ready fails with its reason", async () => {
    const { findings } = await seen({ kubernetes: ["fluxinstance-not-ready"] }, "aws", "Flux controllers");
    expect(findings).toEqual([expect.stringMatching(/^fail: FluxInstance flux Ready=False \(BuildFailed\): fetching distribution manifests/)]);
  });

  it("a GitRepository that cannot authenticate fails for its environment only", async () => {
    const { reports } = await runScenario({ kubernetes: ["gitrepository-auth-failed"] }, "aws");
    expect(notOk(reports)).toEqual([expect.stringMatching(/^fail gitops\/staging: source: Ready=False \(AuthenticationFailed\)/)]);
  });

  it("a Kustomization behind its source's revision is a warning naming both", async () => {
    const { findings } = await seen({ kubernetes: ["kustomization-behind"] }, "aws", "develop: sync");
    expect(findings).toEqual(["warn: applied main@sha1:9a8b7c6, source at main@sha1:3f1c2b9"]);
  });

  it("a source that follows another branch than the config is a warning", async () => {
    const config = doctorConfig((raw) => (raw.environments[0].gitops = { branch: "develop" }));
    const { findings } = await seen({ config }, "aws", "develop: source");
    expect(findings).toEqual([expect.stringContaining("warn: Ready at main@sha1:3f1c2b9, but branch main (config: develop)")]);
  });

  it("an image repository the reflector may not scan fails the environment's image policies", async () => {
    const { findings } = await seen({ kubernetes: ["imagerepository-scan-denied"] }, "aws", "production: image policies");
    expect(findings).toEqual([expect.stringMatching(/^fail: api: scan Ready=False \(AuthenticationFailed\): .*ecr:GetAuthorizationToken/)]);
  });
});

describe("ingress, DNS and TLS", () => {
  it.each(["aws", "azure"] as const)("%s: a zone with no records fails, and names what it holds", async (cloud) => {
    const { findings } = await seen({ [cloud]: ["zone-without-records"] }, cloud, "zone records");
    expect(findings).toEqual([expect.stringMatching(/^fail: .* has no record for \*\.develop\.apps\.example\.com, \*\.staging\.apps\.example\.com, apps\.example\.com, \*\.apps\.example\.com \(it holds 2 record sets: NS, SOA\)$/)]);
  });

  it("a zone not delegated in public DNS fails with the name servers to delegate to", async () => {
    const { reports } = await runScenario({ net: ["not-delegated"] }, "aws");
    expect(find(reports, "zone delegation")).toEqual([
      expect.objectContaining({ status: "fail", next: expect.stringContaining("delegate apps.example.com to ns-101.awsdns-12.com, ns-702.awsdns-23.net") }),
    ]);
  });

  it("an expired certificate fails twice: the Certificate object and what every host serves", async () => {
    const { reports } = await runScenario({ kubernetes: ["certificate-expired"], net: ["expired-certificate"] }, "aws");
    expect(find(reports, "certificate").map((f) => `${f.status}: ${f.evidence}`)).toEqual([expect.stringMatching(/^fail: expired on 2026-12-01T10:00:00.000Z; Ready=False \(Expired\)/)]);
    expect(find(reports, / HTTPS$/).map((f) => `${f.status}: ${f.evidence}`)).toEqual(
      Array(6).fill("fail: certificate not trusted: CERT_HAS_EXPIRED on Dec  1 10:00:00 2026 GMT (issuer R11, Let's Encrypt)"),
    );
    expect(exitCode(reports)).toBe(1);
  });

  it("a Let's Encrypt staging certificate fails, and the next step depends on the configured issuer", async () => {
    const production = await runScenario({ net: ["staging-certificate"] }, "aws");
    expect(find(production.reports, "web.apps.example.com HTTPS")).toEqual([
      expect.objectContaining({
        status: "fail",
        evidence: "Let's Encrypt staging certificate (issuer (STAGING) Wannabe Watercress R11, (STAGING) Let's Encrypt): browsers reject it",
        next: expect.stringContaining("domain.issuer is production but the staging certificate is still served"),
      }),
    ]);
    const staging = await runScenario({ net: ["staging-certificate"], config: doctorConfig((raw) => (raw.domain.issuer = "letsencrypt-staging")) }, "aws");
    expect(find(staging.reports, "web.apps.example.com HTTPS")[0].next).toContain("set domain.issuer: letsencrypt-production");
  });

  it("HTTP that does not redirect to HTTPS fails", async () => {
    const { findings } = await seen({ net: ["no-redirect"] }, "azure", "api.staging.apps.example.com HTTP→HTTPS");
    expect(findings).toEqual(["fail: 404, not a redirect to https://api.staging.apps.example.com"]);
  });
});

describe("monitoring", () => {
  it("a ServiceMonitor with no target fails and names the port it selects", async () => {
    const { findings, reports } = await seen({ kubernetes: ["servicemonitor-without-target"] }, "aws", /^targets of /);
    expect(findings).toEqual(["fail: no target: its selector or its endpoints' port (tcp-prometheus-servicemonitor) matches nothing"]);
    expect(find(reports, "targets of ServiceMonitor cert-manager/cert-manager")).toHaveLength(1);
  });

  it("scale-to-zero environments' queue-proxy PodMonitors may have no target", async () => {
    const { reports } = await runScenario({}, "aws");
    expect(find(reports, /knative-queue-proxy/)).toEqual([]);
  });

  it("a rule group Prometheus did not load, and a rule that fails to evaluate, fail", async () => {
    const { findings } = await seen({ kubernetes: ["rules-not-loaded"] }, "aws", "rules loaded");
    expect(findings).toEqual(["fail: not loaded: cert-manager/certificates: certificates"]);
  });

  it.each(["aws", "azure"] as const)("%s: a stale heartbeat fails, telling whether the Watchdog fires in Alertmanager", async (cloud) => {
    const { findings } = await seen({ [cloud]: ["heartbeat-stale"] }, cloud, "heartbeat");
    const measured = cloud === "aws" ? "0 Watchdog deliveries in the last 15 min (alarm ALARM)" : "Healthy = 0 in the last 15 min (alarm would fire)";
    expect(findings).toEqual([expect.stringContaining(`fail: stale: ${measured}; the Watchdog fires in Alertmanager, so its delivery fails`)]);
  });

  it("Loki storing no line and a ruler without the log alert group fail", async () => {
    const { reports } = await runScenario({ kubernetes: ["loki-no-lines"] }, "azure");
    expect(find(reports, /^Loki/).map((f) => `${f.status} ${f.check}: ${f.evidence}`)).toEqual(["fail Loki ingesting: no log line stored in the last 10 min", "fail Loki ruler: not loaded: application-logs"]);
  });
});

describe("data and secrets", () => {
  it("a stopped database fails for its environment", async () => {
    const { findings } = await seen({ aws: ["database-stopped"] }, "aws", "staging: database");
    expect(findings).toEqual(["fail: RDS acme-staging is stopped"]);
  });

  it("credentials the namespace's identity cannot read fail the database check and the ExternalSecrets check", async () => {
    const { reports } = await runScenario({ kubernetes: ["externalsecret-denied"] }, "azure");
    expect(notOk(reports)).toEqual([
      "skip cluster/node pools: the cloud's cluster autoscaler scales the node pools; no Karpenter NodePool to check",
      expect.stringMatching(/^fail data\/staging: database: Flexible Server acme-staging Ready; the namespace's identity cannot read the credentials: Ready=False \(SecretSyncedError\)/),
      expect.stringMatching(/^fail secrets\/ExternalSecrets Ready: 1\/5 not Ready: staging\/database/),
    ]);
  });

  it("recovery points older than their tier allows fail per tier", async () => {
    const { findings } = await seen({ aws: ["backup-stale"] }, "aws", /^production: backup/);
    expect(findings).toEqual([expect.stringMatching(/^fail: latest 2 d \d+ h ago, every 1 h/), expect.stringMatching(/^fail: latest 3 d \d+ h ago, every 24 h/), expect.stringMatching(/^ok: none yet/)]);
  });

  it("what the doctor reads of the database never includes the secret's value", async () => {
    const { calls } = await runScenario({}, "aws");
    expect(calls.kubernetes.filter((p) => /\/secrets(\/|$)/.test(p))).toEqual([]);
    expect(calls.aws.map((c) => c.command)).not.toContain("GetSecretValue");
  });
});
