import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { issuerWarning, loadConfig, validateConfig } from "../config";
import { ACME_SERVERS, certificateRules, EXPIRY_ALERT_DAYS } from "../constructs/addons/cert-manager";
import { CERTIFICATE_CHECK } from "../constructs/aws/certificate-check";
import { EXTERNAL_DNS_HOSTNAME, KOURIER_SERVICE } from "../constructs/addons/knative";
import { EXTERNAL_DNS_PROVIDER_CONFIG } from "../constructs/addons/external-dns";
import { acmeChallengeStatements, externalDnsStatements, zoneArn } from "../constructs/aws/public-zone";
import { exposedDomains } from "../constructs/environment/domain";
import { manifestsOf, release, releaseValues, synthesizeAddons, type AddonsSynth } from "./addons-fixtures";
import { problemOf } from "./support/config-problems";
import { skipNote, type Availability } from "./support/environment";
import { offlineTerraform } from "./support/offline-terraform";
import { sharedOfflinePlans } from "./support/offline-plans";
import { configWith, readManifest, resourcesOf, synthesize, type Synthesized, type TerraformJson } from "./support/synth";

const BASE = "apps.example.com";
const upstream = (file: string) => JSON.parse(readFileSync(path.join(__dirname, "upstream", file), "utf8"));
const KNATIVE = upstream("knative-serving-1.23.json");
const CERT_MANAGER = upstream("cert-manager-v1.21.1.json");
const CLOUD_PROVIDER_AWS = upstream("cloud-provider-aws-1.33.json");

/** The objects of one release of the local manifests chart, in the order they are listed. */
const manifestsOfRelease = (stack: TerraformJson, name: string): any[] => parse(release(stack, name).values[0]).manifests;

/** True when a DNS name (possibly a `*.` wildcard) covers a host, as both DNS and TLS read wildcards: one label. */
function covers(name: string, host: string): boolean {
  if (!name.startsWith("*.")) return name === host;
  const suffix = name.slice(1);
  return host.endsWith(suffix) && !host.slice(0, -suffix.length).includes(".") && host.length > suffix.length;
}

describe("the names the default config exposes", () => {
  it("are a wildcard per environment, and the base domain with its wildcard for production", () => {
    expect(exposedDomains(loadConfig().domain, loadConfig().environments)).toEqual([
      { environment: "develop", domain: `develop.${BASE}`, names: [`*.develop.${BASE}`] },
      { environment: "staging", domain: `staging.${BASE}`, names: [`*.staging.${BASE}`] },
      { environment: "production", domain: BASE, names: [BASE, `*.${BASE}`] },
    ]);
  });

  it("put production under its own wildcard when it is not on the base domain", () => {
    const config = validateConfig(configWith((raw) => (raw.domain.productionOnBase = false)));
    expect(exposedDomains(config.domain, config.environments).flatMap((e) => e.names)).toEqual([
      `*.develop.${BASE}`,
      `*.staging.${BASE}`,
      `*.production.${BASE}`,
    ]);
  });
});

describe("DNS and certificate settings in config", () => {
  it("default to the staging issuer, upsert-only records and the first alert address", () => {
    const { domain } = loadConfig();
    expect({ issuer: domain.issuer, recordPolicy: domain.recordPolicy, acmeEmail: domain.acmeEmail, existingZone: domain.existingZone }).toEqual({
      issuer: "letsencrypt-staging",
      recordPolicy: "upsert-only",
      acmeEmail: "platform-alerts@example.com",
      existingZone: undefined,
    });
  });

  it("warns at synth while the staging issuer is chosen, and only then", () => {
    expect(issuerWarning(loadConfig())).toMatch(/^warning: domain\.issuer is letsencrypt-staging: browsers reject its certificates/);
    expect(issuerWarning(validateConfig(configWith((raw) => delete raw.domain.issuer)))).toBeDefined();
    expect(issuerWarning(validateConfig(configWith((raw) => (raw.domain.issuer = "letsencrypt-production"))))).toBeUndefined();
  });

  it.each([
    [
      "an existing zone that does not hold the base domain",
      (r: any) => (r.domain.existingZone = { name: "example.org", resourceGroup: "dns" }),
      "domain.existingZone.name",
      "example.org",
      `must be the base domain ${BASE} or a parent of it`,
    ],
    [
      "an existing zone without its Azure resource group",
      (r: any) => (r.domain.existingZone = { name: "example.com" }),
      "domain.existingZone.resourceGroup",
      undefined,
      "the resource group of the existing Azure DNS zone is required when clouds.azure is set",
    ],
    ["an unknown issuer", (r: any) => (r.domain.issuer = "letsencrypt"), "domain.issuer", "letsencrypt", 'must be one of "letsencrypt-staging", "letsencrypt-production"'],
    ["an unknown record policy", (r: any) => (r.domain.recordPolicy = "create-only"), "domain.recordPolicy", "create-only", 'must be one of "upsert-only", "sync"'],
  ])("refuses %s", (_name, change, path, value, message) => {
    expect(problemOf(change)).toEqual({ path, value, message });
  });
});

describe("in-cluster DNS and TLS, as the default config builds them", () => {
  let synth: AddonsSynth;
  const exposed = () => exposedDomains(loadConfig().domain, loadConfig().environments);
  const names = () => exposed().flatMap((e) => e.names);
  beforeAll(() => (synth = synthesizeAddons()));
  afterAll(() => synth.cleanup());

  describe.each(["aws", "azure"] as const)("%s-addons", (cloud) => {
    const stack = (): TerraformJson => synth[cloud];
    const manifests = () => manifestsOf(stack());
    const serving = () => manifests().find((m) => m.kind === "KnativeServing");
    const certificates = () => manifests().filter((m) => m.kind === "Certificate");
    /** Each name external-dns publishes, from every annotated service the program configures. */
    const published = (): string[] =>
      (serving().spec.services ?? []).flatMap((s: any) => (s.annotations?.[EXTERNAL_DNS_HOSTNAME] ?? "").split(",").filter(Boolean));

    it("publishes exactly the exposed names at the Kourier gateway, each once", () => {
      const contract = cloud === "aws" ? synth.awsContract : synth.azureContract;
      expect(serving().spec.services).toEqual([
        { name: KOURIER_SERVICE, annotations: { ...contract.ingressGateway.loadBalancerAnnotations, [EXTERNAL_DNS_HOSTNAME]: names().join(",") } },
      ]);
      expect(published()).toEqual(names());
    });

    it("covers every exposed environment domain by exactly one certificate name and one DNS record set", () => {
      const certNames = certificates().flatMap((c) => c.spec.dnsNames as string[]);
      const routeDomains = Object.keys(serving().spec.config.domain).filter((d) => d !== "svc.cluster.local");
      expect(routeDomains.sort()).toEqual(exposed().map((e) => e.domain).sort());
      for (const domain of routeDomains) {
        const host = `web.${domain}`;
        expect(certNames.filter((n) => covers(n, host)), host).toHaveLength(1);
        expect(published().filter((n) => covers(n, host)), host).toHaveLength(1);
      }
      // The base domain itself, where production serves.
      expect(certNames.filter((n) => covers(n, BASE))).toEqual([BASE]);
      expect(published().filter((n) => covers(n, BASE))).toEqual([BASE]);
    });

    it("keeps cluster-local routes out of DNS and certificates", () => {
      const certNames = certificates().flatMap((c) => c.spec.dnsNames as string[]);
      for (const name of [...certNames, ...published()]) expect(name.endsWith("cluster.local"), name).toBe(false);
      expect(serving().spec.config.domain["svc.cluster.local"]).toBe("");
    });

    it("serves the one certificate on Kourier's HTTPS listener and redirects HTTP", () => {
      const [certificate] = certificates();
      expect(certificates()).toHaveLength(1);
      expect(certificate.metadata.namespace).toBe("knative-serving");
      expect(certificate.spec.issuerRef).toEqual({ group: "cert-manager.io", kind: "ClusterIssuer", name: "letsencrypt-staging" });
      expect(serving().spec.workloads).toEqual([
        {
          name: "net-kourier-controller",
          env: [
            {
              container: "controller",
              envVars: [
                { name: "CERTS_SECRET_NAMESPACE", value: certificate.metadata.namespace },
                { name: "CERTS_SECRET_NAME", value: certificate.spec.secretName },
              ],
            },
          ],
        },
      ]);
      expect(serving().spec.config.network["http-protocol"]).toBe("Redirected");
    });

    it("keeps Kourier up before the certificate is issued: cert-manager writes a temporary one into the secret at once", () => {
      const [certificate] = certificates();
      const { annotation, value } = CERT_MANAGER.temporaryCertificate;
      expect(certificate.metadata.annotations).toEqual({ [annotation]: value });
      // The secret Kourier's one-certificate mode reads, with the keys cert-manager writes.
      expect(serving().spec.workloads[0].env[0].envVars.map((e: any) => e.name)).toEqual(KNATIVE.kourierOneCertificate.env);
      expect(KNATIVE.kourierOneCertificate.secretKeys).toEqual(CERT_MANAGER.secretKeys);
      // One release, which Helm applies kind by kind, kinds it does not know by name: the certificate first.
      const kinds = manifestsOfRelease(stack(), "knative-serving").map((m) => m.kind);
      expect(kinds.sort()).toEqual(["Certificate", "KnativeServing"]);
    });

    it("sets only config-network keys Knative Serving 1.23 reads, redirects HTTP and shows https:// route URLs", () => {
      const network = serving().spec.config.network;
      expect(Object.keys(network).filter((key) => !KNATIVE.configNetwork.keys.includes(key))).toEqual([]);
      expect(KNATIVE.configNetwork.httpProtocolValues).toContain(network["http-protocol"].toLowerCase());
      expect(network["default-external-scheme"]).toBe("https");
      // No KIngress gets TLS of its own, so the scheme above is what route URLs use, and readiness
      // rests on the cluster-local rule every KIngress has, probed without the redirect.
      expect(network[KNATIVE.readiness.externalDomainTlsKey]).toBeUndefined();
    });

    it("overrides only the gateway's Service, and only with fields the operator's ServiceOverride has", () => {
      for (const service of serving().spec.services) {
        expect(service.name).toBe(KNATIVE.operator.gatewayService);
        expect(Object.keys(service).filter((field) => !KNATIVE.operator.serviceOverrideFields.includes(field))).toEqual([]);
      }
    });

    it("has a ClusterIssuer per Let's Encrypt environment, solving DNS-01 in the zone through the platform's solver", () => {
      const issuers = manifests().filter((m) => m.kind === "ClusterIssuer");
      const contract = cloud === "aws" ? synth.awsContract : synth.azureContract;
      expect(issuers.map((i) => [i.metadata.name, i.spec.acme.server])).toEqual(Object.entries(ACME_SERVERS));
      for (const issuer of issuers) {
        expect(issuer.spec.acme.email).toBe("platform-alerts@example.com");
        expect(issuer.spec.acme.solvers).toEqual([{ selector: { dnsZones: [BASE] }, dns01: contract.dns.certManager.dns01 }]);
      }
    });

    it("runs external-dns on the base domain only, upsert-only, from services only, as this cluster's owner", () => {
      const values = releaseValues(stack())["external-dns"];
      expect(values).toMatchObject({
        provider: { name: cloud },
        sources: ["service"],
        domainFilters: [BASE],
        policy: "upsert-only",
        registry: "txt",
        serviceAccount: { create: true, name: "external-dns" },
      });
      expect(values.txtOwnerId).toBe(cloud === "aws" ? "eks/eu-west-1/acme-platform" : "aks/westeurope/acme-platform");
      expect(values.extraArgs).toContain("--txt-wildcard-replacement=wildcard");
    });

    it("gives cert-manager the identity the platform made for it, and keeps its CRDs on uninstall", () => {
      const values = releaseValues(stack())["cert-manager"];
      const contract = cloud === "aws" ? synth.awsContract : synth.azureContract;
      expect(values.crds).toEqual({ enabled: true, keep: true });
      expect(values.serviceAccount).toEqual({ create: true, name: "cert-manager", annotations: contract.dns.certManager.identity.serviceAccountAnnotations });
      expect(values.podLabels).toEqual(contract.dns.certManager.identity.podLabels);
    });
  });

  it("fronts the EKS gateway with a Network Load Balancer, as the service controller of EKS 1.33 reads the annotation", () => {
    const { annotation, networkLoadBalancer } = CLOUD_PROVIDER_AWS.loadBalancerType;
    const annotationsOf = (stack: TerraformJson) => manifestsOf(stack).find((m) => m.kind === "KnativeServing").spec.services[0].annotations;
    expect(annotationsOf(synth.aws)[annotation]).toBe(networkLoadBalancer);
    expect(Object.keys(annotationsOf(synth.azure)).filter((key) => key.startsWith("service.beta.kubernetes.io/aws-"))).toEqual([]);
  });

  it("gives each cloud's external-dns its own TXT owner", () => {
    const owner = (s: TerraformJson) => releaseValues(s)["external-dns"].txtOwnerId;
    expect(owner(synth.aws)).not.toBe(owner(synth.azure));
  });

  it("mounts the Azure provider's configuration, which names the zone's group and uses workload identity", () => {
    const values = releaseValues(synth.azure)["external-dns"];
    expect(values.extraArgs).toContain("--azure-config-file=/etc/external-dns/azure.json");
    expect(values.extraVolumeMounts).toEqual([{ name: "provider-config", mountPath: "/etc/external-dns", readOnly: true }]);
    const providerConfig = (stack: TerraformJson) => Object.values<any>(resourcesOf(stack, "kubernetes_config_map_v1")).filter((c) => c.metadata.name === EXTERNAL_DNS_PROVIDER_CONFIG);
    const [configMap] = providerConfig(synth.azure);
    expect(JSON.parse(configMap.data["azure.json"])).toMatchObject({ useWorkloadIdentityExtension: true });
    expect(JSON.parse(configMap.data["azure.json"])).not.toHaveProperty("aadClientSecret");
    // AWS mounts the same ConfigMap, empty: its provider needs no file.
    expect(providerConfig(synth.aws).map((c) => c.data)).toEqual([{}]);
  });

  it("issues from Let's Encrypt production and syncs records when config says so", () => {
    const other = synthesizeAddons(
      validateConfig(
        configWith((raw) => {
          raw.domain.issuer = "letsencrypt-production";
          raw.domain.recordPolicy = "sync";
        }),
      ),
    );
    try {
      expect(manifestsOf(other.aws).find((m) => m.kind === "Certificate").spec.issuerRef.name).toBe("letsencrypt-production");
      expect(releaseValues(other.azure)["external-dns"].policy).toBe("sync");
    } finally {
      other.cleanup();
    }
  });
});

describe("the DNS identities' AWS permissions", () => {
  const zone = "Z0123456789ABCDEFGHIJ";
  const CHANGES = /^route53:(Change|Delete|Create|Update)/;

  it.each([
    ["external-dns", externalDnsStatements(zone)],
    ["cert-manager", acmeChallengeStatements(zone)],
  ])("%s may change records of the one zone and nothing else", (_who, statements) => {
    for (const statement of statements) {
      const actions = [statement.Action].flat();
      if (actions.some((a) => CHANGES.test(a))) expect(statement.Resource).toBe(zoneArn(zone));
      if (statement.Resource === "*") expect(actions).toEqual(["route53:ListHostedZones"]);
      expect(actions.every((a) => a.startsWith("route53:") && !a.includes("*"))).toBe(true);
    }
  });

  it("lets cert-manager write only _acme-challenge TXT records", () => {
    const change = acmeChallengeStatements(zone).find((s) => [s.Action].flat().includes("route53:ChangeResourceRecordSets"))!;
    expect(change.Condition).toEqual({
      "ForAllValues:StringEquals": { "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"] },
      "ForAllValues:StringLike": { "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.*"] },
    });
  });
});

/** A `jsonencode({...})` policy expression as it stands in a plan's configuration, evaluated with references replaced. */
function evaluatePolicy(expression: string, references: Record<string, string>): any {
  let text = expression.replace(/^\$\{jsonencode\(/, "").replace(/\)\}$/, "");
  for (const [reference, value] of Object.entries(references)) text = text.split(`\${${reference}}`).join(value);
  return JSON.parse(text.replace(/" = /g, '": '));
}

const terraform = offlineTerraform();

describe.skipIf(!terraform.available)(`the zone and the DNS identities in the offline AWS plan${skipNote(terraform)}`, () => {
  let plan: any;
  let synthesized: TerraformJson;
  beforeAll(() => {
    const shared = sharedOfflinePlans();
    plan = shared.plans["aws-platform"].plan;
    const manifest = readManifest(shared.outdir);
    synthesized = JSON.parse(readFileSync(path.join(shared.outdir, manifest.stacks["aws-platform"].synthesizedStackPath), "utf8"));
  });

  const zones = () => plan.resource_changes.filter((c: any) => c.type === "aws_route53_zone");
  const configOf = (address: string) => plan.configuration.root_module.resources.find((r: any) => r.address === address);

  it("creates one public zone for the base domain, protected from destroy, and outputs its name servers", () => {
    expect(zones().map((z: any) => [z.change.actions, z.change.after.name, z.change.after.force_destroy, z.change.after.vpc])).toEqual([
      [["create"], BASE, false, []],
    ]);
    const logicalId = zones()[0].name;
    expect(synthesized.resource!.aws_route53_zone[logicalId].lifecycle).toEqual({ prevent_destroy: true });
    expect(plan.configuration.root_module.outputs.dns_name_servers.expression.references).toContain(`${zones()[0].address}.name_servers`);
  });

  it.each([
    ["external-dns", "external-dns"],
    ["cert-manager", "cert-manager"],
  ])("associates the %s service account with a role whose policy reaches only that zone", (namespace, serviceAccount) => {
    const association = plan.resource_changes.find((c: any) => c.type === "aws_eks_pod_identity_association" && c.change.after.namespace === namespace);
    expect(association.change.after.service_account).toBe(serviceAccount);
    const roleAddress = configOf(association.address).expressions.role_arn.references.find((r: string) => r.startsWith("aws_iam_role.") && !r.endsWith(".arn"));
    const policies = plan.resource_changes.filter(
      (c: any) => c.type === "aws_iam_role_policy" && configOf(c.address).expressions.role.references.includes(roleAddress),
    );
    const attachments = plan.resource_changes.filter(
      (c: any) => c.type === "aws_iam_role_policy_attachment" && configOf(c.address).expressions.role.references.includes(roleAddress),
    );
    expect(policies).toHaveLength(1);
    expect(attachments).toEqual([]);
    const expression = configOf(policies[0].address).expressions.policy;
    const zoneAddress = zones()[0].address;
    // The zone is the only resource the policy refers to.
    expect([...new Set(expression.references.map((r: string) => r.split(".").slice(0, 2).join(".")))]).toEqual([zoneAddress]);
    const policy = evaluatePolicy(expression.constant_value, { [`${zoneAddress}.zone_id`]: "THEZONE" });
    for (const statement of policy.Statement) {
      const actions = [statement.Action].flat();
      if (actions.some((a: string) => /^route53:Change/.test(a))) expect(statement.Resource).toBe("arn:aws:route53:::hostedzone/THEZONE");
    }
    expect(policy.Statement.some((s: any) => s.Resource === "arn:aws:route53:::hostedzone/THEZONE")).toBe(true);
  });
});

describe("the zone and the DNS identities on Azure", () => {
  let synth: Synthesized;
  let stack: TerraformJson;
  beforeAll(() => {
    synth = synthesize();
    stack = synth.stack("azure-platform");
  });
  afterAll(() => synth.cleanup());

  it("creates one DNS zone for the base domain, protected from destroy, and outputs its name servers", () => {
    const zones = Object.entries(resourcesOf(stack, "azurerm_dns_zone"));
    expect(zones.map(([, z]) => [z.name, z.lifecycle])).toEqual([[BASE, { prevent_destroy: true }]]);
    expect(stack.output?.dns_name_servers.value).toBe(`\${tolist(azurerm_dns_zone.${zones[0][0]}.name_servers)}`);
  });

  /** Role and scope of every assignment to the identity of one service account, and the identity's logical id. */
  const assignmentsOf = (azure: TerraformJson, name: string) => {
    const identities = Object.entries(resourcesOf(azure, "azurerm_user_assigned_identity")).filter(([, i]) => i.name === `acme-platform-${name}`);
    expect(identities).toHaveLength(1);
    const [identityId] = identities[0];
    const assignments = Object.values(resourcesOf(azure, "azurerm_role_assignment")).filter((a) => a.principal_id === `\${azurerm_user_assigned_identity.${identityId}.principal_id}`);
    return { identityId, assignments: assignments.map((a) => [a.role_definition_name, a.scope]).sort() };
  };

  it.each([
    ["external-dns", ["Reader on the zone's resource group, to list its zones"]],
    ["cert-manager", []],
  ])("lets the %s identity change only that zone, from its service account only", (name, extra) => {
    const [zoneId] = Object.keys(resourcesOf(stack, "azurerm_dns_zone"));
    const [groupId] = Object.keys(resourcesOf(stack, "azurerm_resource_group"));
    const { identityId, assignments } = assignmentsOf(stack, name);
    expect(assignments).toEqual(
      [["DNS Zone Contributor", `\${azurerm_dns_zone.${zoneId}.id}`], ...extra.map(() => ["Reader", `\${azurerm_resource_group.${groupId}.id}`])].sort(),
    );
    const federations = Object.values(resourcesOf(stack, "azurerm_federated_identity_credential")).filter((f) => f.parent_id === `\${azurerm_user_assigned_identity.${identityId}.id}`);
    expect(federations.map((f) => f.subject)).toEqual([`system:serviceaccount:${name}:${name}`]);
  });

  it("looks an existing zone up instead of creating one, and outputs no name servers", () => {
    const other = synthesize(validateConfig(configWith((raw) => (raw.domain.existingZone = { name: "example.com", resourceGroup: "dns" }))));
    try {
      const azure = other.stack("azure-platform");
      expect(resourcesOf(azure, "azurerm_dns_zone")).toEqual({});
      // external-dns lists the zones of the existing zone's group, not the platform's.
      expect(assignmentsOf(azure, "external-dns").assignments).toContainEqual([
        "Reader",
        `/subscriptions/\${data.azurerm_client_config.client.subscription_id}/resourceGroups/dns`,
      ]);
      expect(Object.values(azure.data?.azurerm_dns_zone ?? {}).map((z: any) => [z.name, z.resource_group_name])).toEqual([["example.com", "dns"]]);
      expect(azure.output?.dns_name_servers).toBeUndefined();
      const aws = other.stack("aws-platform");
      expect(resourcesOf(aws, "aws_route53_zone")).toEqual({});
      expect(Object.values(aws.data?.aws_route53_zone ?? {}).map((z: any) => [z.name, z.private_zone])).toEqual([["example.com", false]]);
      // The zone is the parent; records and certificates stay under the base domain.
      const addons = other.stack("aws-addons");
      expect(parse(Object.values<any>(addons.resource!.helm_release).find((r) => r.name === "external-dns").values[0]).domainFilters).toEqual([BASE]);
    } finally {
      other.cleanup();
    }
  });
});

describe("the external checks of the exposed applications' certificates", () => {
  const ROUTE53 = upstream("route53-health-checks.json");
  let synth: Synthesized;
  let aws: TerraformJson;
  beforeAll(() => {
    synth = synthesize();
    aws = synth.stack("aws-platform");
  });
  afterAll(() => synth.cleanup());

  it("check, on AWS, every host a Route 53 health check watches, since those do not validate certificates", () => {
    expect(ROUTE53.validatesCertificates).toBe(false);
    const watched = Object.values(resourcesOf(aws, "aws_route53_health_check")).map((check) => check.fqdn).sort();
    expect(watched).toEqual(["api.apps.example.com", "web.apps.example.com"]);
    const [target] = Object.values(resourcesOf(aws, "aws_cloudwatch_event_target")).filter((t) => t.input !== undefined && t.input.includes("minimumDaysLeft"));
    const input = JSON.parse(target.input);
    expect(input.targets.map((t: any) => t.host).sort()).toEqual(watched);
    expect(input.minimumDaysLeft).toBe(CERTIFICATE_CHECK.minimumDaysLeft);
  });

  it("run the check's code as a Lambda function in the alarms' region, writing only its own log", () => {
    const [fn] = Object.values(resourcesOf(aws, "aws_lambda_function"));
    expect(fn).toMatchObject({ runtime: CERTIFICATE_CHECK.runtime, handler: "index.handler", provider: "aws.external_monitoring" });
    expect(fn.source_code_hash).toMatch(/^\$\{filebase64sha256\(/);
    const policies = Object.values(resourcesOf(aws, "aws_iam_role_policy")).filter((p) => String(p.role).includes("certificate-check"));
    expect(policies).toHaveLength(1);
    expect(policies[0].policy).toContain('"Action" = ["logs:CreateLogStream", "logs:PutLogEvents"]');
    expect(policies[0].policy).toMatch(/"Resource" = "\$\{aws_cloudwatch_log_group\.external-monitoring_certificate-check_logs_\w+\.arn\}:\*"/);
  });

  it("alarm per host when a certificate fails the check or the check stops reporting", () => {
    const alarms = Object.values(resourcesOf(aws, "aws_cloudwatch_metric_alarm")).filter((a) => a.metric_name === "CertificateValid");
    expect(alarms.map((a) => a.dimensions.Host).sort()).toEqual(["api.apps.example.com", "web.apps.example.com"]);
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({ statistic: "Minimum", threshold: 1, comparison_operator: "LessThanThreshold", treat_missing_data: "breaching", provider: "aws.external_monitoring" });
      expect(alarm.alarm_actions).toEqual(alarm.ok_actions);
      expect(alarm.alarm_actions[0]).toMatch(/aws_sns_topic\.external-monitoring_alerts_/);
    }
  });

  it("validate the certificate, on Azure, in every availability web test", () => {
    const tests = Object.values(resourcesOf(synth.stack("azure-platform"), "azurerm_application_insights_standard_web_test"));
    expect(tests).toHaveLength(2);
    for (const test of tests) expect(test.validation_rules).toMatchObject({ ssl_check_enabled: true, ssl_cert_remaining_lifetime: CERTIFICATE_CHECK.minimumDaysLeft });
  });
});

/** `promtool` from PATH or /usr/bin. */
function promtool(): Availability & { readonly command?: string } {
  const found = spawnSync("promtool", ["--version"], { encoding: "utf8" });
  if (found.status === 0) return { available: true, reason: "", command: "promtool" };
  return { available: false, reason: "promtool is not installed (Debian/Ubuntu: apt-get install prometheus)" };
}

describe("the certificate alerts", () => {
  const rules = () => (certificateRules().spec as any).groups[0].rules;

  it("fire 14 days before expiry and when a certificate stays not Ready", () => {
    expect(EXPIRY_ALERT_DAYS).toBe(14);
    expect(rules().map((r: any) => [r.alert, r.expr])).toEqual([
      ["CertificateExpiresSoon", "certmanager_certificate_expiration_timestamp_seconds - time() < 14 * 24 * 3600"],
      ["CertificateNotReady", 'max by (namespace, name) (certmanager_certificate_ready_status{condition!="True"}) == 1'],
    ]);
  });

  const tool = promtool();
  describe.skipIf(!tool.available)(`with promtool${skipNote(tool)}`, () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), "certificate-rules-"));
      writeFileSync(path.join(dir, "rules.yaml"), stringify({ groups: (certificateRules().spec as any).groups }));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("are valid rules", () => {
      const result = spawnSync(tool.command!, ["check", "rules", path.join(dir, "rules.yaml")], { encoding: "utf8" });
      expect(result.stdout + result.stderr).toContain("SUCCESS: 2 rules found");
      expect(result.status).toBe(0);
    });

    /** A rule's annotations as Prometheus renders them for one certificate. */
    const annotations = (alert: string, certificate: string, duration: string) => {
      const rule = rules().find((r: any) => r.alert === alert);
      return {
        summary: rule.annotations.summary,
        description: rule.annotations.description.replace("{{ $labels.namespace }}/{{ $labels.name }}", certificate).replace("{{ $value | humanizeDuration }}", duration),
      };
    };

    it("alert on a certificate 13 days from expiry and a failing one, not on a fresh one", () => {
      const day = 24 * 3600;
      const tests = {
        rule_files: ["rules.yaml"],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            input_series: [
              // Expiry timestamps as seen at time 0, repeated for two hours.
              { series: 'certmanager_certificate_expiration_timestamp_seconds{namespace="knative-serving",name="routes"}', values: `${13 * day}x120` },
              { series: 'certmanager_certificate_expiration_timestamp_seconds{namespace="cert-manager",name="fresh"}', values: `${60 * day}x120` },
              { series: 'certmanager_certificate_ready_status{namespace="knative-serving",name="routes",condition="True"}', values: "1x120" },
              { series: 'certmanager_certificate_ready_status{namespace="cert-manager",name="fresh",condition="True"}', values: "0x120" },
              { series: 'certmanager_certificate_ready_status{namespace="cert-manager",name="fresh",condition="False"}', values: "1x120" },
            ],
            alert_rule_test: [
              {
                eval_time: "2h",
                alertname: "CertificateExpiresSoon",
                exp_alerts: [{ exp_labels: { severity: "warning", namespace: "knative-serving", name: "routes" }, exp_annotations: annotations("CertificateExpiresSoon", "knative-serving/routes", "12d 22h 0m 0s") }],
              },
              {
                eval_time: "2h",
                alertname: "CertificateNotReady",
                exp_alerts: [{ exp_labels: { severity: "warning", namespace: "cert-manager", name: "fresh" }, exp_annotations: annotations("CertificateNotReady", "cert-manager/fresh", "") }],
              },
              { eval_time: "20m", alertname: "CertificateNotReady", exp_alerts: [] },
            ],
          },
        ],
      };
      writeFileSync(path.join(dir, "tests.yaml"), stringify(tests));
      const result = spawnSync(tool.command!, ["test", "rules", path.join(dir, "tests.yaml")], { encoding: "utf8", cwd: dir });
      expect(result.stdout + result.stderr).toContain("SUCCESS");
      expect(result.status).toBe(0);
    });
  });
});
