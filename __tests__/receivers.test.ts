import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { Testing, TerraformStack } from "cdktf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fluxReceiver, RECEIVER_OBJECTS, TOKEN_VERSION_ANNOTATION, webhookPath, WebhookReceivers } from "../constructs/environment/receiver";
import { ACR_WEBHOOK_QUOTA } from "../config/schema";
import { platformResourceState } from "../constructs/addons/kube-state-metrics";
import { problemOf } from "./support/config-problems";
import { crdValidator, type CrdValidator } from "./support/crd-schemas";
import { manifestsOf } from "./addons-fixtures";
import { configWith, synthesize, validateConfig } from "./support/synth";
import { skipNote, sharedDataDir } from "./support/environment";
import { operatorPatchedNotificationValidator } from "./support/operator-crds";

const shared = sharedDataDir();
const upstream = JSON.parse(readFileSync(path.join(__dirname, "upstream", "flux-receiver.json"), "utf8"));

const stack = () => new TerraformStack(Testing.app(), "test");
const receivers = (props: Partial<ConstructorParameters<typeof WebhookReceivers>[2]> = {}) =>
  new WebhookReceivers(stack(), "receivers", {
    namespace: "develop",
    gitRepository: "gitops",
    registry: { type: "acr", imageRepositories: ["web", "api"] },
    tokenVersion: 1,
    ...props,
  });
const byKind = (r: WebhookReceivers, kind: string) => r.release.manifests.filter((m) => m.kind === kind) as any[];

describe("the webhook path", () => {
  it("is the controller's: prefix and the hex digest of token, name and namespace, in its order", () => {
    const { prefix, digest, encoding, digestOf } = upstream.webhookPath;
    const parts: Record<string, string> = {
      token: "s3cret",
      name: "gitops",
      namespace: "develop",
    };
    const expected =
      prefix +
      createHash(digest)
        .update(digestOf.map((part: string) => parts[part]).join(""))
        .digest(encoding);
    expect(webhookPath(parts.token, parts.name, parts.namespace)).toBe(expected);
  });

  it("differs between two Receivers sharing a token", () => {
    expect(webhookPath("t", RECEIVER_OBJECTS.git, "develop")).not.toBe(webhookPath("t", RECEIVER_OBJECTS.registry, "develop"));
  });
});

describe("WebhookReceivers", () => {
  it("a github Receiver reconciling the environment's GitRepository on GitHub's ping and push", () => {
    const git = byKind(receivers(), "Receiver").find((r) => r.metadata.name === RECEIVER_OBJECTS.git);
    expect(git.spec).toEqual({
      type: "github",
      events: upstream.githubEvents.events,
      secretRef: { name: RECEIVER_OBJECTS.token },
      resources: [
        {
          apiVersion: "source.toolkit.fluxcd.io/v1",
          kind: "GitRepository",
          name: "gitops",
        },
      ],
    });
    expect(git.metadata.namespace).toBe("develop");
  });

  it("a registry Receiver of the contract's type rescanning every ImageRepository of the environment, in its namespace only", () => {
    const registry = byKind(receivers(), "Receiver").find((r) => r.metadata.name === RECEIVER_OBJECTS.registry);
    expect(registry.spec.type).toBe("acr");
    expect(registry.spec.events).toBeUndefined();
    expect(registry.spec.resources).toEqual(
      ["web", "api"].map((name) => ({
        apiVersion: "image.toolkit.fluxcd.io/v1",
        kind: "ImageRepository",
        name,
      }))
    );
    expect(JSON.stringify(registry.spec.resources)).not.toContain("namespace");
  });

  it("only the receivers asked for", () => {
    expect(byKind(receivers({ registry: undefined }), "Receiver").map((r) => r.metadata.name)).toEqual([RECEIVER_OBJECTS.git]);
    expect(byKind(receivers({ gitRepository: undefined }), "Receiver").map((r) => r.metadata.name)).toEqual([RECEIVER_OBJECTS.registry]);
    expect(() => receivers({ gitRepository: undefined, registry: undefined })).toThrow("test/receivers: no receiver is asked for");
    expect(() => receivers({ registry: { type: "generic", imageRepositories: [] } })).toThrow("test/receivers: a registry receiver needs at least one ImageRepository");
  });

  it("a token generated in the cluster, generated again only when its version changes, never in Terraform", () => {
    const r = receivers({ tokenVersion: 3 });
    const [external] = byKind(r, "ExternalSecret");
    expect(external.spec.refreshPolicy).toBe("OnChange");
    expect(external.metadata.annotations[TOKEN_VERSION_ANNOTATION]).toBe("3");
    expect(external.spec.dataFrom).toEqual([
      {
        sourceRef: {
          generatorRef: {
            apiVersion: "generators.external-secrets.io/v1alpha1",
            kind: "Password",
            name: RECEIVER_OBJECTS.token,
          },
        },
      },
    ]);
    expect(external.spec.target).toEqual({
      name: RECEIVER_OBJECTS.token,
      template: { engineVersion: "v2", data: { token: "{{ .password }}" } },
    });
    expect(byKind(r, "Password")[0].spec.symbols).toBe(0);
    const synthesized = Testing.synth(r.node.scope as TerraformStack);
    expect(synthesized).not.toMatch(/random_password|"token":\s*"[^{]/);
  });
});

describe.skipIf(!shared.available)(`Receivers against the notification-controller's CRD${skipNote(shared)}`, () => {
  let unpatched: CrdValidator;
  let patched: CrdValidator;
  let dispose: () => void;
  beforeAll(() => {
    const dir = path.join(shared.dir!, "crd-schemas");
    unpatched = crdValidator(dir);
    ({ validator: patched, dispose } = operatorPatchedNotificationValidator(dir));
  });
  afterAll(() => dispose());

  it.each(["acr", "generic"] as const)("the environment's Receivers (registry type %s) and token ExternalSecret validate", (type) => {
    const r = receivers({ registry: { type, imageRepositories: ["web"] } });
    for (const manifest of r.release.manifests.filter((m) => m.kind !== "Password")) expect(unpatched.validate(manifest), manifest.kind).toEqual([]);
  });

  it("a preview's Receiver of its ResourceSetInputProvider: valid once the operator patches the CRD, refused as Flux ships it", () => {
    const preview = fluxReceiver({
      name: "pull-requests",
      namespace: "preview",
      type: "github",
      events: ["ping", "pull_request"],
      secretName: RECEIVER_OBJECTS.token,
      resources: [
        {
          apiVersion: "fluxcd.controlplane.io/v1",
          kind: "ResourceSetInputProvider",
          name: "pull-requests",
          namespace: "preview",
        },
      ],
    });
    expect(patched.validate(preview)).toEqual([]);
    expect(unpatched.validate(preview)).toEqual(["/spec/resources/0/kind: must be equal to one of the allowed values"]);
  });

  it("refuses a Receiver type the controller does not know", () => {
    const bad = fluxReceiver({
      name: "x",
      namespace: "develop",
      type: "acr",
      secretName: "t",
      resources: [{ apiVersion: "v1", kind: "GitRepository", name: "gitops" }],
    }) as any;
    bad.spec.type = "ecr";
    expect(unpatched.validate(bad)).not.toEqual([]);
  });
});

describe.skipIf(!shared.available)(`previews with gitops.receivers.git${skipNote(shared)}`, () => {
  it("a github Receiver beside the previews' input providers refreshes them on a pull request event, valid once the operator patches the CRD", () => {
    const config = validateConfig(
      configWith((raw) => {
        raw.previews = { environment: "develop", label: "preview", maxOpen: 3, quota: { requestsCpu: "4", requestsMemory: "8Gi", pods: 40 } };
        raw.applications[0].repository = "https://github.com/acme/web";
        raw.applications[0].previews = true;
        raw.gitops.receivers = { git: true };
      }),
    );
    const stack = synthesize(config, { only: "aws" }).stack("aws-develop");
    const providers = manifestsOf(stack).filter((m) => m.kind === "ResourceSetInputProvider");
    const receiver = manifestsOf(stack).find((m) => m.kind === "Receiver" && m.metadata.name === RECEIVER_OBJECTS.pullRequests);
    expect(providers.length).toBeGreaterThan(0);
    expect(receiver.metadata.namespace).toBe(providers[0].metadata.namespace);
    expect(receiver.spec.events).toEqual(["ping", "pull_request"]);
    expect(receiver.spec.resources).toEqual(providers.map((p) => ({ apiVersion: p.apiVersion, kind: p.kind, name: p.metadata.name })));
    const { validator, dispose } = operatorPatchedNotificationValidator(path.join(shared.dir!, "crd-schemas"));
    try {
      expect(validator.validate(receiver)).toEqual([]);
    } finally {
      dispose();
    }
    const token = manifestsOf(stack).find((m) => m.kind === "ExternalSecret" && m.metadata.namespace === receiver.metadata.namespace && m.metadata.name === RECEIVER_OBJECTS.token);
    expect(token).toBeDefined();
  });
});

describe("the registry tier's webhook quota", () => {
  // The example's Premium registry keeps untagged images a while and is zone-redundant: Basic offers neither.
  const basicRegistry = (raw: any) => {
    const { untaggedRetentionDays: _days, ...registry } = raw.clouds.azure.registry;
    raw.clouds.azure.registry = {
      ...registry,
      sku: "Basic",
      zoneRedundancy: false,
      privateAccess: false,
    };
  };
  it("refuses more environments than a Basic registry has webhooks, naming the field, value and the tiers that fit", () => {
    const problem = problemOf((raw) => {
      raw.gitops.receivers = { registry: true };
      basicRegistry(raw);
    });
    expect(problem).toEqual({
      path: "clouds.azure.registry.sku",
      value: "Basic",
      message: `allows ${ACR_WEBHOOK_QUOTA.Basic} webhooks; gitops.receivers.registry needs one per environment (3): choose Standard or Premium or turn the registry receiver off`,
    });
  });

  it("accepts a Basic registry without the registry receiver, and a Standard one with it", () => {
    expect(() =>
      validateConfig(
        configWith((raw) => {
          basicRegistry(raw);
          raw.gitops.receivers = { git: true, registry: false };
        }),
      ),
    ).not.toThrow();
    expect(() =>
      validateConfig(
        configWith((raw) => {
          basicRegistry(raw);
          raw.clouds.azure.registry.sku = "Standard";
          raw.gitops.receivers = { registry: true, git: true };
        })
      )
    ).not.toThrow();
  });
});

describe("a Receiver that is not Ready", () => {
  it("is watched like the other Flux objects, so FluxResourceNotReady fires for it", () => {
    const receiver = fluxReceiver({
      name: "x",
      namespace: "develop",
      type: "github",
      secretName: "t",
      resources: [],
    });
    const [group, version] = receiver.apiVersion.split("/");
    const published = (platformResourceState() as any).customResourceState.config.spec.resources.map((r: any) => r.groupVersionKind);
    expect(published).toContainEqual({ group, version, kind: receiver.kind });
  });
});

describe("the environment stacks with gitops.receivers", () => {
  const receiverNames = (stack: any) => manifestsOf(stack).filter((m) => m.kind === "Receiver").map((m) => `${m.metadata.namespace}/${m.metadata.name}:${m.spec.type}`);

  it("none when off: polling only", () => {
    const synth = synthesize(validateConfig(configWith((raw) => (raw.gitops.receivers = { git: false, registry: false }))), { only: "aws" });
    for (const env of ["develop", "staging", "production"]) expect(receiverNames(synth.stack(`aws-${env}`))).toEqual([]);
  });

  it("each environment its own Receivers in its own namespace, the registry's of the cloud's type, and no token in the synthesized Terraform", () => {
    const synth = synthesize(validateConfig(configWith((raw) => (raw.gitops.receivers = { git: true, registry: true }))), { only: "aws" });
    for (const env of ["develop", "staging", "production"]) {
      expect(receiverNames(synth.stack(`aws-${env}`))).toEqual([`${env}/${RECEIVER_OBJECTS.git}:github`, `${env}/${RECEIVER_OBJECTS.registry}:generic`]);
    }
    expect(synth.allText()).not.toMatch(/random_password|"token":\s*"[^{]/);
  });
});
