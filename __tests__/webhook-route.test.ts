import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { FLUX } from "../constructs/addons/flux";
import { KOURIER_SERVICE } from "../constructs/addons/knative";
import { WEBHOOK_PROXY_LIMITS, WebhookRoute, webhookProxyConfig } from "../constructs/addons/webhook-route";
import { environmentDomain } from "../constructs/environment/domain";
import { webhookHost, webhookPath } from "../constructs/environment/receiver";
import { loadConfig } from "../config";
import { manifestsOf } from "./addons-fixtures";
import { problemOf } from "./support/config-problems";
import { configWith, resourcesOf, synthesize, validateConfig } from "./support/synth";

/** The Flux 2.8.5 manifests the operator installs: the webhook-receiver Service and the controller's pods. */
const flux = JSON.parse(readFileSync(path.join(__dirname, "upstream", "flux-operator.json"), "utf8")).distribution;

/** Whether a DNS name (or a `*.` wildcard of one label) covers a host, as certificates and DNS wildcards do. */
const covers = (name: string, host: string) => name === host || (name.startsWith("*.") && host.slice(host.indexOf(".") + 1) === name.slice(2));

describe("the public route to Flux's Receivers", () => {
  const config = loadConfig();
  const addons = synthesize().stack("aws-addons");
  const objects = manifestsOf(addons);
  const hosts = config.environments.map((environment) => webhookHost(environmentDomain(config.domain, environment)));
  const mappings = objects.filter((m) => m.kind === "DomainMapping");

  it("serves hooks.<environment domain> for every environment, through the proxy", () => {
    expect(mappings.map((m) => m.metadata.name)).toEqual(hosts);
    expect(hosts).toEqual(["hooks.develop.apps.example.com", "hooks.staging.apps.example.com", "hooks.apps.example.com"]);
    for (const mapping of mappings) {
      expect(mapping.metadata.namespace).toBe(WebhookRoute.NAMESPACE);
      expect(mapping.spec.ref).toEqual({ apiVersion: "serving.knative.dev/v1", kind: "Service", name: WebhookRoute.SERVICE });
    }
    const proxy = objects.find((m) => m.kind === "Service" && m.apiVersion === "serving.knative.dev/v1");
    expect(proxy.metadata).toMatchObject({ name: WebhookRoute.SERVICE, namespace: WebhookRoute.NAMESPACE, labels: { "networking.knative.dev/visibility": "cluster-local" } });
  });

  it("claims each host for the proxy's namespace, so no other namespace can map it", () => {
    const claims = objects.filter((m) => m.kind === "ClusterDomainClaim");
    expect(claims.map((c) => [c.metadata.name, c.spec.namespace])).toEqual(hosts.map((host) => [host, WebhookRoute.NAMESPACE]));
  });

  it("needs no certificate nor DNS record of its own: the gateway's certificate and the published wildcards cover every host", () => {
    const certificate = objects.find((m) => m.kind === "Certificate" && m.metadata.name === "routes");
    const kourier = objects.find((m) => m.kind === "KnativeServing").spec.services.find((s: any) => s.name === KOURIER_SERVICE);
    const published: string[] = kourier.annotations["external-dns.alpha.kubernetes.io/hostname"].split(",");
    for (const host of hosts) {
      expect({ host, certified: certificate.spec.dnsNames.some((name: string) => covers(name, host)) }).toEqual({ host, certified: true });
      expect({ host, published: published.some((name) => covers(name, host)) }).toEqual({ host, published: true });
    }
  });

  it("forwards to the notification-controller's webhook-receiver Service and may reach only its webhook port", () => {
    expect(flux.services[FLUX.webhookReceiver.service]).toMatchObject({ port: FLUX.webhookReceiver.port });
    expect(webhookProxyConfig()).toContain(`proxy_pass http://${FLUX.webhookReceiver.service}.${FLUX.namespace}.svc.cluster.local:${FLUX.webhookReceiver.port};`);
    const policy = objects.find((m) => m.kind === "NetworkPolicy" && m.metadata.namespace === WebhookRoute.NAMESPACE);
    const [toFlux] = policy.spec.egress;
    const controller = flux.controllers["notification-controller"];
    expect(toFlux.to[0].podSelector.matchLabels).toEqual(controller.podLabels);
    expect(toFlux.to[0].namespaceSelector.matchLabels).toEqual({ "kubernetes.io/metadata.name": FLUX.namespace });
    // The Service's target port, by the name the controller's container gives it.
    expect(toFlux.ports).toEqual([{ protocol: "TCP", port: flux.services[FLUX.webhookReceiver.service].targetPort }]);
    expect(controller.containerPorts).toContain(toFlux.ports[0].port);
    // Flux's own policy admits any namespace to the controller's webhooks.
    expect(flux.networkPolicies.names).toContain("allow-webhooks");
  });

  it("passes on only a POST to a Receiver's path, with a body limit and a rate limit", () => {
    const nginx = webhookProxyConfig();
    const location = nginx.match(/location ~ (\S+) \{/)![1];
    const hook = new RegExp(location);
    expect(hook.test(webhookPath("token", "gitops", "develop"))).toBe(true);
    for (const other of ["/", "/hook/", "/hook/pending", `${webhookPath("t", "n", "ns")}/x`, "/metrics", "/readyz"]) expect({ other, passed: hook.test(other) }).toEqual({ other, passed: false });
    expect(nginx).toContain("limit_except POST { deny all; }");
    expect(nginx).toContain(`client_max_body_size ${WEBHOOK_PROXY_LIMITS.bodySize};`);
    expect(nginx).toContain(`limit_req zone=hooks burst=${WEBHOOK_PROXY_LIMITS.burst} nodelay;`);
    expect(nginx).toMatch(new RegExp(`limit_req_zone \\$host zone=hooks:1m rate=${WEBHOOK_PROXY_LIMITS.ratePerSecond}r/s;`));
    // Anything else is the proxy's own 403, never a 404, which the alert reads as Flux refusing a delivery.
    expect(nginx).toContain("location / { return 403; }");
  });

  it("is left out when no Receiver is asked for", () => {
    const off = synthesize(validateConfig(configWith((raw) => (raw.gitops.receivers = { git: false, registry: false }))), { only: "aws" }).stack("aws-addons");
    expect(manifestsOf(off).filter((m) => ["DomainMapping", "ClusterDomainClaim"].includes(m.kind))).toEqual([]);
    expect(Object.values(resourcesOf(off, "kubernetes_namespace_v1")).map((n: any) => n.metadata.name)).not.toContain(WebhookRoute.NAMESPACE);
  });

  it("refuses an application named as the webhook host while receivers are on", () => {
    const problem = problemOf((raw) => {
      raw.applications[0].name = "hooks";
      raw.environments.forEach((environment: any) => delete environment.applications);
    });
    expect(problem).toEqual({
      path: "applications[0].name",
      value: "hooks",
      message: "is the host of the webhooks (hooks.<environment domain>) while gitops.receivers is on; rename the application",
    });
    expect(() =>
      validateConfig(
        configWith((raw) => {
          raw.applications[0].name = "hooks";
          raw.gitops.receivers = { git: false, registry: false };
        }),
      ),
    ).not.toThrow();
  });
});
