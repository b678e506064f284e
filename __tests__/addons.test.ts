import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { TerraformStack, Testing } from "cdktf";
import { CHARTS } from "../constructs/addons/charts";
import { ExternalSecretsAddon } from "../constructs/addons/external-secrets";
import { FLUX_CONTROLLER_RESOURCES, FLUX_CONTROLLERS } from "../constructs/addons/flux";
import { HelmAddon } from "../constructs/addons/helm-addon";
import { instanceKeepsCrds } from "../tools/flux-guard";
import { ManifestsRelease } from "../constructs/kubernetes/manifests-release";
import { clusterScaleToZero } from "../constructs/addons/knative";
import { IN_CLUSTER } from "../constructs/contract";
import { validateConfig } from "../config";
import { CAPACITY_CHARTS, TOOLS_CHARTS, manifestsOf, release, releaseValues, synthesizeAddons, type AddonsSynth } from "./addons-fixtures";
import { configWith, onlyResource, resourcesOf, synthesize, type Synthesized, type TerraformJson } from "./support/synth";

describe.each(["aws", "azure"])("%s-addons, as the program builds it", (cloud) => {
  const id = `${cloud}-addons`;
  let synth: Synthesized;
  let stack: TerraformJson;

  beforeAll(() => {
    synth = synthesize();
    stack = synth.stack(id);
  });
  afterAll(() => synth.cleanup());

  it("matches the reviewed snapshot", async () => {
    await expect(JSON.stringify(stack, null, 2)).toMatchFileSnapshot(`./__snapshots__/${id}.tf.json`);
  });

  it("uses only the kubernetes and helm providers", () => {
    expect(Object.keys(stack.provider ?? {}).sort()).toEqual(["helm", "kubernetes"]);
    expect(Object.keys(stack.terraform!.required_providers).sort()).toEqual(["helm", "kubernetes"]);
  });

  it("deploys after the platform it reads the cluster from, and before the environments", () => {
    expect(synth.manifest.stacks[id].dependencies).toEqual([`${cloud}-platform`]);
    for (const environment of ["develop", "staging", "production"]) {
      expect(synth.manifest.stacks[`${cloud}-${environment}`].dependencies).toContain(id);
    }
  });
});

describe("add-on stacks on both clouds", () => {
  let synth: AddonsSynth;
  let stacks: Record<string, TerraformJson>;

  beforeAll(() => {
    synth = synthesizeAddons();
    stacks = { "aws-addons": synth.aws, "azure-addons": synth.azure };
  });
  afterAll(() => synth.cleanup());

  describe.each(["aws-addons", "azure-addons"])("%s", (id) => {
    const stack = () => stacks[id];

    it("installs every chart from the pin table at an exact version, capacity charts only where the platform asks", () => {
      const pinned = Object.values(resourcesOf(stack(), "helm_release")).filter((r) => r.repository !== undefined);
      // AKS scales its own pools and serves resource metrics; EKS asks for Karpenter and metrics-server.
      // A chart may serve more than one release (Alloy: pod logs and events).
      const expected = Object.values(CHARTS)
        .map((c) => c.chart)
        .filter((chart) => !TOOLS_CHARTS.includes(chart) && (id === "aws-addons" || !CAPACITY_CHARTS.includes(chart)));
      expect([...new Set(pinned.map((r) => r.chart))].sort()).toEqual(expected.sort());
      for (const r of pinned) {
        const pin = Object.values(CHARTS).find((c) => c.chart === r.chart)!;
        expect({ repository: r.repository, version: r.version }).toEqual({ repository: pin.repository, version: pin.version });
        expect(r.version).toMatch(/^v?\d+\.\d+\.\d+$/);
      }
    });

    it("applies custom resources only through the chart shipped with the program", () => {
      const local = Object.values(resourcesOf(stack(), "helm_release")).filter((r) => r.repository === undefined);
      const capacity = id === "aws-addons" ? ["karpenter-node-pools"] : [];
      expect(local.map((r) => r.name).sort()).toEqual(
        ["cert-manager-monitoring", "cluster-issuers", "cluster-secret-store", "flux-instance", "flux-monitoring", "flux-webhooks", "knative-serving", "loki-health-rules", "monitoring-secrets", "platform-alerting", "registry-webhooks", ...capacity].sort(),
      );
      for (const r of local) expect(r.chart).toMatch(/^\.\/assets\//);
      expect(stack().resource?.kubernetes_manifest).toBeUndefined();
    });

    it("makes every release atomic, bounded in time and history", () => {
      for (const r of Object.values(resourcesOf(stack(), "helm_release"))) {
        expect({ name: r.name, atomic: r.atomic, cleanup: r.cleanup_on_fail, history: r.max_history }).toEqual({
          name: r.name,
          atomic: true,
          cleanup: true,
          history: 5,
        });
        expect(r.timeout).toBeGreaterThanOrEqual(300);
        expect(r.timeout).toBeLessThanOrEqual(900);
      }
    });

    it("orders custom resources after the releases that install their CRDs", () => {
      const id = (name: string) => `helm_release.${Object.entries(resourcesOf(stack(), "helm_release")).find(([, r]) => r.name === name)![0]}`;
      expect(release(stack(), "cluster-secret-store").depends_on).toContain(id("external-secrets"));
      expect(release(stack(), "knative-serving").depends_on).toContain(id("knative-operator"));
      expect(release(stack(), "monitoring-secrets").depends_on).toContain(id("cluster-secret-store"));
      expect(release(stack(), "kube-prometheus-stack").depends_on).toContain(id("monitoring-secrets"));
      expect(release(stack(), "flux-monitoring").depends_on).toEqual([id("flux"), id("kube-prometheus-stack")]);
      // The FluxInstance's CRD comes with the operator's chart.
      expect(release(stack(), "flux-instance").depends_on).toEqual([id("flux")]);
      if (stack() === stacks["aws-addons"]) {
        // Workloads need Karpenter's nodes: the system group takes only critical add-ons.
        expect(release(stack(), "karpenter").depends_on).toEqual([id("karpenter-crd")]);
        expect(release(stack(), "karpenter").skip_crds).toBe(true);
        expect(release(stack(), "karpenter-node-pools").depends_on).toEqual([id("karpenter")]);
        for (const name of ["flux", "external-secrets", "knative-operator", "monitoring-secrets", "kube-prometheus-stack"]) {
          expect(release(stack(), name).depends_on, name).toContain(id("karpenter-node-pools"));
        }
        expect(release(stack(), "metrics-server").depends_on).toBeUndefined();
      } else {
        expect(release(stack(), "flux").depends_on).toBeUndefined();
      }
    });

    it("configures both providers with exec credentials only", () => {
      const kubernetes = stack().provider!.kubernetes[0];
      const helm = stack().provider!.helm[0].kubernetes;
      for (const connection of [kubernetes, helm]) {
        expect(Object.keys(connection).sort()).toEqual(["cluster_ca_certificate", "exec", "host"]);
      }
      expect(kubernetes.exec).toHaveLength(1);
      expect(kubernetes.exec[0].command).toBe(helm.exec.command);
      const text = JSON.stringify(stack().provider);
      for (const forbidden of ["token", "client_key", "client_certificate", "config_path", "config_context", "password", "username"]) {
        expect(text).not.toContain(`"${forbidden}"`);
      }
    });

    it("installs Flux through the operator: one FluxInstance with all six controllers, image automation included, and no sync", () => {
      expect(release(stack(), "flux")).toMatchObject({ chart: "flux-operator", namespace: "flux-system", create_namespace: true });
      const instances = manifestsOf(stack()).filter((m) => m.kind === "FluxInstance");
      expect(instances.map((m) => m.metadata)).toEqual([{ name: "flux", namespace: "flux-system" }]);
      const [instance] = instances;
      expect(instance.spec.components).toEqual([...FLUX_CONTROLLERS]);
      expect(instance.spec.distribution).toEqual({ version: "2.8.5", registry: "ghcr.io/fluxcd" });
      expect(instance.spec.sync).toBeUndefined();
    });

    it("lets Prometheus scrape every Flux controller and the operator", () => {
      const monitors = manifestsOf(stack()).filter((m) => m.kind === "PodMonitor" && m.metadata.namespace === "flux-system");
      expect(monitors.map((m) => m.metadata.name)).toEqual(["flux-controllers", "flux-operator"]);
      expect(monitors[0].spec.selector.matchExpressions[0].values).toHaveLength(6);
      expect(monitors[0].spec.podMetricsEndpoints).toEqual([{ port: "http-prom" }]);
      expect(monitors[1].spec.podMetricsEndpoints).toEqual([{ port: "http-metrics" }]);
      // The chart's own ServiceMonitor would make Flux wait for the monitoring stack's CRD.
      expect(releaseValues(stack()).flux.serviceMonitor).toBeUndefined();
    });

    it("keeps the Flux CRDs when the FluxInstance goes, and the operator's and External Secrets' CRDs when their release is uninstalled", () => {
      const values = releaseValues(stack());
      const instance = manifestsOf(stack()).find((m) => m.kind === "FluxInstance");
      expect(instanceKeepsCrds(instance)).toBe(true);
      expect(values.flux.installCRDs).toBe(true);
      expect(values["external-secrets"].crds.annotations).toEqual({ "helm.sh/resource-policy": "keep" });
      expect(values["external-secrets"].installCRDs).toBe(true);
    });

    it("locks Flux and the operator's ResourceSets down for multi-tenancy, with Flux's network policies", () => {
      const instance = manifestsOf(stack()).find((m) => m.kind === "FluxInstance");
      expect(instance.spec.cluster).toMatchObject({ multitenant: true, tenantDefaultServiceAccount: "default", networkPolicy: true });
      expect(releaseValues(stack()).flux.multitenancy).toEqual({ enabled: true, defaultServiceAccount: "default" });
    });

    it("gives each Flux controller today's requests and a memory limit, and no CPU limit", () => {
      const patches: any[] = manifestsOf(stack()).find((m) => m.kind === "FluxInstance").spec.kustomize.patches;
      for (const controller of FLUX_CONTROLLERS) {
        const patch = patches.find((p) => p.target.kind === "Deployment" && p.target.name === controller && p.patch.includes("/resources"));
        const [operation] = parse(patch.patch);
        expect(operation, controller).toEqual({ op: "replace", path: "/spec/template/spec/containers/0/resources", value: FLUX_CONTROLLER_RESOURCES[controller] });
        expect(operation.value.limits.memory, controller).toMatch(/^\d+(Mi|Gi)$/);
        expect(operation.value.limits.cpu, controller).toBeUndefined();
      }
      expect(FLUX_CONTROLLER_RESOURCES["source-controller"]).toEqual({ requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "1Gi" } });
    });

    it("holds the FluxInstance's release until Flux is Ready, with an account that may only read the instance", () => {
      const objects = manifestsOf(stack()).filter((m) => m.metadata.name === "flux-instance-ready");
      expect(objects.map((m) => m.kind)).toEqual(["ServiceAccount", "Role", "RoleBinding", "Job"]);
      const [, role, binding, job] = objects;
      expect(role.rules).toEqual([{ apiGroups: ["fluxcd.controlplane.io"], resources: ["fluxinstances"], resourceNames: ["flux"], verbs: ["get"] }]);
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "flux-instance-ready", namespace: "flux-system" }]);
      expect(job.metadata.annotations["helm.sh/hook"]).toBe("post-install,post-upgrade");
      const pod = job.spec.template.spec;
      expect(pod.serviceAccountName).toBe("flux-instance-ready");
      expect(pod.containers[0].args).toEqual(["wait", "instance", "flux", "--namespace=flux-system", "--timeout=8m"]);
      // Helm waits for the hook within the release's timeout.
      expect(release(stack(), "flux-instance").timeout).toBeGreaterThan(8 * 60);
    });

    it("turns scale-to-zero on with the cluster-wide timings and Kourier as the ingress", () => {
      const serving = manifestsOf(stack()).find((m) => m.kind === "KnativeServing");
      expect(serving.metadata).toEqual({ name: "knative-serving", namespace: "knative-serving" });
      expect(serving.spec.ingress).toEqual({ kourier: { enabled: true } });
      expect(serving.spec.config.network["ingress-class"]).toBe("kourier.ingress.networking.knative.dev");
      expect(serving.spec.config.autoscaler).toMatchObject({
        "enable-scale-to-zero": "true",
        // develop waits 30s and staging 60s: the longest grace period wins.
        "scale-to-zero-grace-period": "60s",
        // develop keeps no pod and staging 300s: the shortest retention wins.
        "scale-to-zero-pod-retention-period": "0s",
      });
    });

    it("gives each environment's routes its own domain, production the base domain, and keeps other routes private", () => {
      const config = manifestsOf(stack()).find((m) => m.kind === "KnativeServing").spec.config;
      expect(config.network["domain-template"]).toBe("{{.Name}}.{{.Domain}}");
      expect(Object.keys(config.domain).sort()).toEqual(["apps.example.com", "develop.apps.example.com", "staging.apps.example.com", "svc.cluster.local"]);
      expect(config.domain["svc.cluster.local"]).toBe("");
      expect(parse(config.domain["apps.example.com"])).toEqual({ selector: { environment: "production" } });
      expect(parse(config.domain["develop.apps.example.com"])).toEqual({ selector: { environment: "develop" } });
      expect(parse(config.domain["staging.apps.example.com"])).toEqual({ selector: { environment: "staging" } });
    });

    it("keeps Prometheus data for a bounded time on a persistent volume of the platform's class", () => {
      const spec = releaseValues(stack())["kube-prometheus-stack"].prometheus.prometheusSpec;
      expect(spec.retention).toBe("15d");
      expect(spec.retentionSize).toBe("45GB");
      expect(spec.storageSpec.volumeClaimTemplate.spec).toEqual({
        storageClassName: id === "aws-addons" ? "gp3" : "managed-csi",
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: "50Gi" } },
      });
    });

    it("gives Alertmanager and Grafana persistent volumes too", () => {
      const values = releaseValues(stack())["kube-prometheus-stack"];
      const storageClassName = id === "aws-addons" ? "gp3" : "managed-csi";
      expect(values.alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec).toMatchObject({ storageClassName, resources: { requests: { storage: "10Gi" } } });
      expect(values.grafana.persistence).toMatchObject({ enabled: true, storageClassName, size: "10Gi" });
    });

    it("picks up ServiceMonitors, PodMonitors and rules from every release and namespace", () => {
      const spec = releaseValues(stack())["kube-prometheus-stack"].prometheus.prometheusSpec;
      expect(spec.ruleSelectorNilUsesHelmValues).toBe(false);
      expect(spec.serviceMonitorSelectorNilUsesHelmValues).toBe(false);
      expect(spec.podMonitorSelectorNilUsesHelmValues).toBe(false);
      for (const selector of ["ruleNamespaceSelector", "serviceMonitorNamespaceSelector", "podMonitorNamespaceSelector"]) {
        expect(spec[selector], selector).toBeUndefined();
      }
    });

    it("does not scrape the managed control plane, which the cluster cannot reach", () => {
      const values = releaseValues(stack())["kube-prometheus-stack"];
      for (const component of ["kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"]) {
        expect(values[component], component).toEqual({ enabled: false });
      }
      expect(values.kubeApiServer).toBeUndefined();
    });

    it("mails alerts with an SMTP password mounted from an External Secrets secret", () => {
      const values = releaseValues(stack())["kube-prometheus-stack"].alertmanager;
      expect(values.alertmanagerSpec.secrets).toEqual(["alertmanager-smtp"]);
      expect(values.config.global.smtp_auth_password_file).toBe("/etc/alertmanager/secrets/alertmanager-smtp/password");
      expect(values.config.global.smtp_auth_password).toBeUndefined();
      expect(values.config.route.receiver).toBe("email");
      expect(values.config.receivers).toContainEqual({
        name: "email",
        email_configs: [{ to: "platform-alerts@example.com", send_resolved: true, headers: { Subject: expect.stringContaining(".CommonLabels.environment") } }],
      });
      const smtp = manifestsOf(stack()).find((m) => m.kind === "ExternalSecret" && m.metadata.name === "alertmanager-smtp");
      expect(smtp.metadata.namespace).toBe("monitoring");
      expect(smtp.spec.secretStoreRef).toEqual({ kind: "ClusterSecretStore", name: "platform" });
      expect(smtp.spec.data).toEqual([{ secretKey: "password", remoteRef: { key: "acme-platform-alertmanager-smtp-password" } }]);
    });

    it("generates Grafana's admin password in the cluster, once", () => {
      const grafana = releaseValues(stack())["kube-prometheus-stack"].grafana;
      expect(grafana.admin).toEqual({ existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" });
      expect(grafana.adminPassword).toBeUndefined();
      const secret = manifestsOf(stack()).find((m) => m.kind === "ExternalSecret" && m.metadata.name === "grafana-admin");
      expect(secret.spec.refreshPolicy).toBe("CreatedOnce");
      expect(secret.spec.dataFrom).toEqual([{ sourceRef: { generatorRef: { apiVersion: "generators.external-secrets.io/v1alpha1", kind: "Password", name: "grafana-admin" } } }]);
      expect(secret.spec.target.template.data["admin-password"]).toBe("{{ .password }}");
    });

    it("holds no Grafana admin password anywhere", () => {
      const text = JSON.stringify(stack());
      expect(text).not.toMatch(/adminPassword|admin_password|GF_SECURITY_ADMIN_PASSWORD/i);
      // The chart's documented default password.
      expect(text).not.toContain("prom-operator");
      expect(Object.keys(stack().resource ?? {})).not.toContain("random_password");
    });

    it("runs External Secrets under the fixed service account name the platform grants", () => {
      const values = releaseValues(stack())["external-secrets"];
      expect(values.serviceAccount).toMatchObject({ create: true, name: "external-secrets" });
    });
  });

  it("creates the storage class only when the contract names a provisioner", () => {
    expect(onlyResource(synth.aws, "kubernetes_storage_class_v1")).toMatchObject({
      metadata: { name: "gp3" },
      storage_provisioner: "ebs.csi.aws.com",
      parameters: { type: "gp3", encrypted: "true" },
      volume_binding_mode: "WaitForFirstConsumer",
    });
    expect(resourcesOf(synth.azure, "kubernetes_storage_class_v1")).toEqual({});
  });

  it("installs the node autoscaler the contract describes, with its values and custom resources, and nothing where the cloud autoscales", () => {
    const autoscaler = synth.awsContract.capacity.nodeAutoscaler;
    expect(releaseValues(synth.aws).karpenter).toEqual(autoscaler.values);
    expect(release(synth.aws, "karpenter")).toMatchObject({ namespace: autoscaler.namespace, chart: autoscaler.chart });
    expect(parse(release(synth.aws, "karpenter-node-pools").values[0]).manifests).toEqual(autoscaler.manifests);
    expect(synth.azureContract.capacity.nodeAutoscaler).toBeUndefined();
    expect(Object.values(resourcesOf(synth.azure, "helm_release")).map((r) => r.name)).not.toContain("karpenter");
  });

  it("installs metrics-server, tolerating the critical-add-ons taint, only where the cloud does not serve resource metrics", () => {
    expect(synth.awsContract.capacity.resourceMetricsBuiltIn).toBe(false);
    expect(releaseValues(synth.aws)["metrics-server"]).toMatchObject({
      replicas: 2,
      podDisruptionBudget: { enabled: true, minAvailable: 1 },
      tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }],
    });
    expect(synth.azureContract.capacity.resourceMetricsBuiltIn).toBe(true);
    expect(Object.values(resourcesOf(synth.azure, "helm_release")).map((r) => r.name)).not.toContain("metrics-server");
  });

  it("annotates and labels Flux's image reflector with the contract's identity through the FluxInstance's patches", () => {
    const patchesOf = (stack: TerraformJson): any[] => manifestsOf(stack).find((m) => m.kind === "FluxInstance").spec.kustomize.patches;
    const identity = synth.azureContract.identities.fluxImageReflector;
    const account = patchesOf(synth.azure).find((p) => p.target.kind === "ServiceAccount");
    expect(account.target).toEqual({ kind: "ServiceAccount", name: "image-reflector-controller" });
    expect(parse(account.patch).metadata.annotations).toEqual(identity.serviceAccountAnnotations);
    expect(parse(account.patch).metadata.annotations["azure.workload.identity/client-id"]).toMatch(/flux-image-reflector_identity_\w+client_id\}$/);
    const labels = patchesOf(synth.azure).find((p) => p.target.kind === "Deployment" && !p.patch.includes("/resources"));
    expect(labels.target).toEqual({ kind: "Deployment", name: "image-reflector-controller" });
    expect(parse(labels.patch).spec.template.metadata.labels).toEqual({ "azure.workload.identity/use": "true" });
    // Pod Identity on AWS matches the service account by name: the patches merge nothing.
    const aws = patchesOf(synth.aws).filter((p) => p.target.kind === "ServiceAccount" || (p.target.kind === "Deployment" && !p.patch.includes("/resources")));
    expect(aws.map((p) => parse(p.patch))).toEqual([
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "image-reflector-controller", annotations: {} } },
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "image-reflector-controller" }, spec: { template: { metadata: { labels: {} } } } },
    ]);
  });

  it("annotates and labels External Secrets with the contract's identity", () => {
    const values = releaseValues(synth.azure)["external-secrets"];
    expect(values.serviceAccount.annotations).toEqual(synth.azureContract.identities.externalSecrets.serviceAccountAnnotations);
    expect(values.serviceAccount.annotations["azure.workload.identity/client-id"]).toMatch(/external-secrets_identity_\w+client_id\}$/);
    expect(values.podLabels).toEqual({ "azure.workload.identity/use": "true" });
  });

  it("backs the ClusterSecretStore with the contract's provider", () => {
    const storeOf = (stack: TerraformJson) => manifestsOf(stack).find((m) => m.kind === "ClusterSecretStore");
    expect(storeOf(synth.aws).spec.provider).toEqual({ aws: { service: "SecretsManager", region: "eu-west-1" } });
    expect(storeOf(synth.azure).spec.provider).toEqual(synth.azureContract.clusterSecretStore);
    expect(storeOf(synth.azure).spec.provider.azurekv).toMatchObject({ authType: "WorkloadIdentity", serviceAccountRef: { name: "external-secrets", namespace: "external-secrets" } });
  });

  it.each(["aws", "azure"] as const)("serves the ClusterSecretStore on %s to the monitoring namespace alone, where every ExternalSecret reading it lives", (cloud) => {
    const manifests = manifestsOf(synth[cloud]);
    const store = manifests.find((m) => m.kind === "ClusterSecretStore");
    expect(store.spec.conditions).toEqual([{ namespaces: ["monitoring"] }]);
    const readers = manifests.filter((m) => m.kind === "ExternalSecret" && m.spec.secretStoreRef?.kind === "ClusterSecretStore");
    expect(readers.map((m) => `${m.metadata.namespace}/${m.metadata.name}`)).toEqual(["monitoring/alertmanager-smtp"]);
  });
});

describe("the ClusterSecretStore's namespaces", () => {
  it("must name at least one, since a store without conditions serves every namespace", () => {
    const stack = new TerraformStack(Testing.app(), "addons");
    expect(
      () => new ExternalSecretsAddon(stack, "external-secrets", { cloud: "aws", identity: { serviceAccountAnnotations: {}, podLabels: {} }, provider: { aws: { service: "SecretsManager" } }, namespaces: [] }),
    ).toThrow("addons/external-secrets: namespaces must name at least one namespace; a ClusterSecretStore without conditions serves every namespace");
  });
});

describe("Helm release names", () => {
  const long = "a".repeat(54);

  it("may be 53 characters, Helm's limit", () => {
    expect(() => new ManifestsRelease(new TerraformStack(Testing.app(), "addons"), "objects", { name: "a".repeat(53), namespace: "default", manifests: [] })).not.toThrow();
  });

  it.each([
    ["a release of custom resources", (stack: TerraformStack) => new ManifestsRelease(stack, "objects", { name: long, namespace: "default", manifests: [] }), "addons/objects"],
    ["a chart add-on", (stack: TerraformStack) => new HelmAddon(stack, "flux", { cloud: "aws", chart: "flux-operator", releaseName: long, namespace: "flux-system" }), "addons/flux"],
  ])("fail at synth past the limit, for %s", (_, make, path) => {
    expect(() => make(new TerraformStack(Testing.app(), "addons"))).toThrow(`${path}: Helm release name '${long}' is 54 characters; the limit is 53`);
  });
});

describe("the monitoring's heartbeat through the contract", () => {
  it("sends the Watchdog to the AWS platform's heartbeat topic as the account the platform grants, and keeps it in the cluster on Azure", () => {
    const synth = synthesizeAddons();
    try {
      const aws = releaseValues(synth.aws)["kube-prometheus-stack"].alertmanager;
      expect(aws.config.route.routes[0]).toMatchObject({ receiver: "heartbeat", matchers: ['alertname = "Watchdog"'], repeat_interval: "1m" });
      const heartbeat = aws.config.receivers.find((r: any) => r.name === "heartbeat");
      expect(heartbeat).toEqual({ name: "heartbeat", ...synth.awsContract.alertHeartbeat.receiver });
      expect(heartbeat.sns_configs[0].topic_arn).toMatch(/aws_sns_topicexternal-monitoring_heartbeat/);
      expect(aws.serviceAccount).toMatchObject({ create: true, name: "alertmanager" });
      // Azure reads the Watchdog from the container logs: Alertmanager delivers it to the sink, which logs it.
      const azure = releaseValues(synth.azure)["kube-prometheus-stack"].alertmanager;
      expect(azure.config.route.routes[0]).toMatchObject({ receiver: "heartbeat", matchers: ['alertname = "Watchdog"'], repeat_interval: "1m" });
      expect(synth.azureContract.alertHeartbeat).toMatchObject({ containerLog: true });
      const sink = release(synth.azure, IN_CLUSTER.watchdogSink.name);
      expect(sink).toMatchObject({ chart: "alloy", namespace: IN_CLUSTER.watchdogSink.namespace });
      const sinkValues = releaseValues(synth.azure)[IN_CLUSTER.watchdogSink.name];
      const [webhook] = azure.config.receivers.find((r: any) => r.name === "heartbeat").webhook_configs;
      const url = new URL(webhook.url);
      // Alertmanager posts to the sink's Service (the chart names it after the release), on the port it opens, at the raw route.
      expect(url.hostname).toBe(`${sink.name}.${sink.namespace}.svc.cluster.local`);
      expect(sinkValues.alloy.extraPorts).toEqual([{ name: "watchdog", port: Number(url.port), targetPort: Number(url.port), protocol: "TCP" }]);
      expect(sinkValues.alloy.configMap.content).toContain(`listen_port    = ${url.port}`);
      expect(url.pathname).toBe("/loki/api/v1/raw");
      expect(sinkValues.alloy.configMap.content).toContain(`loki.echo "${IN_CLUSTER.watchdogSink.logMarker.split(".").pop()}"`);
      expect(webhook.send_resolved).toBe(false);
      // It needs no access to the API server.
      expect(sinkValues.rbac).toEqual({ create: false });
      // AWS delivers it outside the cluster, and runs no sink.
      expect(Object.values<any>(synth.aws.resource!.helm_release).map((r) => r.name)).not.toContain(IN_CLUSTER.watchdogSink.name);
    } finally {
      synth.cleanup();
    }
  });
});

describe("alerting without receivers", () => {
  it("routes to the null receiver and reads no SMTP secret when no e-mail is configured", () => {
    const synth = synthesizeAddons(validateConfig(configWith((raw) => (raw.alerts.emails = []))));
    try {
      const values = releaseValues(synth.aws)["kube-prometheus-stack"].alertmanager;
      expect(values.config.route.receiver).toBe("null");
      // Only the heartbeat, which is not mail, leaves the cluster.
      expect(values.config.receivers.map((r: any) => r.name)).toEqual(["null", "heartbeat"]);
      expect(releaseValues(synth.azure)["kube-prometheus-stack"].alertmanager.config.receivers.map((r: any) => r.name)).toEqual(["null", "heartbeat"]);
      expect(values.alertmanagerSpec.secrets).toEqual([]);
      expect(values.config.global.smtp_auth_password_file).toBeUndefined();
      expect(manifestsOf(synth.aws).filter((m) => m.kind === "ExternalSecret").map((m) => m.metadata.name)).toEqual(["grafana-admin"]);
    } finally {
      synth.cleanup();
    }
  });
});

describe("route domains when production is not on the base domain", () => {
  it("serves production under production.<base> and nothing on the base domain itself", () => {
    const synth = synthesizeAddons(validateConfig(configWith((raw) => (raw.domain.productionOnBase = false))));
    try {
      const domains = manifestsOf(synth.aws).find((m) => m.kind === "KnativeServing").spec.config.domain;
      expect(parse(domains["production.apps.example.com"])).toEqual({ selector: { environment: "production" } });
      expect(domains["apps.example.com"]).toBeUndefined();
    } finally {
      synth.cleanup();
    }
  });
});

describe("cluster-wide scale-to-zero timings", () => {
  const environment = (stage: "develop" | "staging" | "production", gracePeriodSeconds: number, retentionPeriodSeconds: number) => ({
    stage,
    scaleToZero: { gracePeriodSeconds, retentionPeriodSeconds },
  });

  it("take the longest grace period and the shortest retention of non-production environments", () => {
    expect(clusterScaleToZero([environment("develop", 30, 120), environment("staging", 90, 60), environment("production", 600, 0)])).toEqual({
      gracePeriodSeconds: 90,
      retentionPeriodSeconds: 60,
    });
  });

  it("fall back to production's timings when every environment is production", () => {
    expect(clusterScaleToZero([environment("production", 45, 10)])).toEqual({ gracePeriodSeconds: 45, retentionPeriodSeconds: 10 });
  });
});
