import { existsSync } from "node:fs";
import * as path from "node:path";
import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import { Construct } from "constructs";
import type { PagerService } from "../../config/pager";
import { findPlaceholders, type Placeholder } from "../../config/placeholders";
import { IN_CLUSTER, type AlertHeartbeat } from "../contract";
import { ManifestsRelease, type KubernetesObject } from "../kubernetes/manifests-release";
import { alertmanagerConfig } from "./alertmanager-config";
import { platformResourceState } from "./resource-state";
import { MIGRATION_COMPONENT_LABEL } from "./alert-rules";
import { HelmAddon, type AddonOptions } from "./helm-addon";
import { userValues } from "./values";
import { WatchdogSink, watchdogSinkReceiver } from "./watchdog-sink";

export const MONITORING_NAMESPACE = "monitoring";
/** kube-prometheus-stack's release: the chart names its Services after it. */
export const MONITORING_RELEASE = "kube-prometheus-stack";
/** The chart's Alertmanager Service (`<release>-alertmanager`) at its default port, `alertmanager.service.port`. */
export const ALERTMANAGER_PORT = 9093;
/** Alertmanager in the cluster, for the other alert sources (Loki's ruler). */
export const ALERTMANAGER_URL = `http://${MONITORING_RELEASE}-alertmanager.${MONITORING_NAMESPACE}.svc.cluster.local:${ALERTMANAGER_PORT}`;
/** kube-prometheus-stack's Prometheus service: its query API in the cluster. */
export const PROMETHEUS_PORT = 9090;
export const PROMETHEUS_URL = `http://${MONITORING_RELEASE}-prometheus.${MONITORING_NAMESPACE}.svc.cluster.local:${PROMETHEUS_PORT}`;
/** Secret holding Grafana's admin user and generated password. */
export const GRAFANA_ADMIN_SECRET = "grafana-admin";
/** Secret holding the SMTP password Alertmanager sends mail with. */
export const ALERTMANAGER_SMTP_SECRET = "alertmanager-smtp";
/** Secret holding the pager's routing key, API key or webhook URL. */
export const ALERTMANAGER_PAGER_SECRET = "alertmanager-pager";
/** Where the chart mounts a secret of `alertmanagerSpec.secrets`: `<dir>/<name>/<key>`. */
const SECRETS_DIR = "/etc/alertmanager/secrets";

/**
 * A Grafana admin Secret generated in the cluster by External Secrets
 * (`admin-user`, `admin-password`): a Password generator and the
 * ExternalSecret that writes it once.
 */
export function grafanaAdminSecret(name: string, namespace: string): KubernetesObject[] {
  return [
    {
      apiVersion: "generators.external-secrets.io/v1alpha1",
      kind: "Password",
      metadata: { name, namespace },
      spec: { length: 32, digits: 6, symbols: 0, noUpper: false, allowRepeat: true },
    },
    {
      apiVersion: "external-secrets.io/v1",
      kind: "ExternalSecret",
      metadata: { name, namespace },
      spec: {
        // Grafana takes the admin password only when it first creates its
        // database; a rotated secret would no longer match it.
        refreshPolicy: "CreatedOnce",
        dataFrom: [{ sourceRef: { generatorRef: { apiVersion: "generators.external-secrets.io/v1alpha1", kind: "Password", name } } }],
        target: {
          name,
          template: { engineVersion: "v2", data: { "admin-user": "admin", "admin-password": "{{ .password }}" } },
        },
      },
    },
  ];
}

export interface MonitoringProps extends AddonOptions {
  readonly cloud: string;
  readonly storageClassName: string;
  /** Receivers of alert e-mails; none turns the e-mail receiver off. */
  readonly alertEmails: string[];
  /** ClusterSecretStore the SMTP password is read from. */
  readonly secretStore: string;
  /** Key of the SMTP password in the cloud's secret store (a plain-text secret). */
  readonly smtpPasswordKey: string;
  /** Grafana data sources besides Prometheus and Alertmanager. @default - none */
  readonly dataSources?: Record<string, unknown>[];
  /** Environments whose critical alerts repeat until resolved. */
  readonly productionEnvironments: string[];
  /** Where the Watchdog goes; without it the Watchdog is dropped. */
  readonly heartbeat?: AlertHeartbeat;
  /**
   * The pager production's critical alerts go to, and the key of its secret
   * in the cloud's secret store.
   * @default - none: they are mailed
   */
  readonly pager?: { readonly service: PagerService; readonly secretKey: string; readonly url?: string };
  /**
   * The `cluster` label on every series and alert, so that a shared
   * Grafana and the alert mails tell the clusters apart.
   * @default - none: the one cluster needs no label
   */
  readonly clusterLabel?: string;
  /**
   * Annotations that make Prometheus's own Service an internal load balancer
   * the tools cluster's Grafana reads (ClusterPlatform.privateMonitoring).
   * @default - a ClusterIP Service, reached in the cluster only
   */
  readonly publishAnnotations?: Record<string, string>;
}

/**
 * kube-prometheus-stack: Prometheus, Alertmanager and Grafana on persistent
 * volumes. Every secret they use is made in the cluster by External Secrets:
 * the SMTP password and the pager's key come from the cloud's secret store,
 * and Grafana's admin password is generated in the cluster, so none ever
 * passes through Terraform.
 */
export class MonitoringAddon extends Construct {
  readonly secrets: ManifestsRelease;
  readonly stack: HelmAddon;
  /** Where the Watchdog goes when the cloud reads it from the container logs. */
  readonly watchdogSink?: WatchdogSink;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const sendsMail = props.alertEmails.length > 0;
    const namespace = new NamespaceV1(this, "namespace", {
      metadata: { name: MONITORING_NAMESPACE, labels: { "app.kubernetes.io/managed-by": "cdktf" } },
    });

    const manifests: KubernetesObject[] = [...grafanaAdminSecret(GRAFANA_ADMIN_SECRET, MONITORING_NAMESPACE)];
    // Alertmanager's secrets, each one value of the cloud's secret store, copied into one key of a Secret it mounts.
    const storeSecret = (name: string, secretKey: string, remoteKey: string): KubernetesObject => ({
      apiVersion: "external-secrets.io/v1",
      kind: "ExternalSecret",
      metadata: { name, namespace: MONITORING_NAMESPACE },
      spec: {
        refreshInterval: "1h",
        secretStoreRef: { kind: "ClusterSecretStore", name: props.secretStore },
        target: { name },
        data: [{ secretKey, remoteRef: { key: remoteKey } }],
      },
    });
    if (sendsMail) manifests.push(storeSecret(ALERTMANAGER_SMTP_SECRET, "password", props.smtpPasswordKey));
    if (props.pager) manifests.push(storeSecret(ALERTMANAGER_PAGER_SECRET, "key", props.pager.secretKey));
    this.secrets = new ManifestsRelease(this, "secrets", {
      name: "monitoring-secrets",
      namespace: MONITORING_NAMESPACE,
      manifests,
      dependsOn: [...(props.dependsOn ?? []), namespace],
    });

    if (props.heartbeat?.containerLog) {
      this.watchdogSink = new WatchdogSink(this, "watchdog-sink", { cloud: props.cloud, valuesDir: props.valuesDir, dependsOn: [...(props.dependsOn ?? []), namespace] });
    }
    const heartbeatReceiver = props.heartbeat?.receiver ?? (props.heartbeat?.containerLog ? watchdogSinkReceiver() : undefined);
    const mountedSecrets = [...(sendsMail ? [ALERTMANAGER_SMTP_SECRET] : []), ...(props.pager ? [ALERTMANAGER_PAGER_SECRET] : [])];

    const volume = (extra: Record<string, unknown> = {}) => ({
      storageClassName: props.storageClassName,
      accessModes: ["ReadWriteOnce"],
      ...extra,
    });
    this.stack = new HelmAddon(this, "stack", {
      chart: "kube-prometheus-stack",
      releaseName: MONITORING_RELEASE,
      namespace: MONITORING_NAMESPACE,
      createNamespace: false,
      cloud: props.cloud,
      valuesDir: props.valuesDir,
      dependsOn: [...(props.dependsOn ?? []), this.secrets.release],
      // Prometheus and Grafana wait for their volumes to be provisioned.
      timeoutSeconds: 900,
      values: {
        crds: { enabled: true },
        alertmanager: {
          config: alertmanagerConfig({
            emails: props.alertEmails,
            smtpPasswordFile: `${SECRETS_DIR}/${ALERTMANAGER_SMTP_SECRET}/password`,
            productionEnvironments: props.productionEnvironments,
            heartbeat: heartbeatReceiver,
            pager: props.pager && { service: props.pager.service, keyFile: `${SECRETS_DIR}/${ALERTMANAGER_PAGER_SECRET}/key`, url: props.pager.url },
          }),
          // Named so that the cloud can grant exactly this account the heartbeat.
          serviceAccount: { create: true, name: IN_CLUSTER.alertmanager.serviceAccount, annotations: props.heartbeat?.identity.serviceAccountAnnotations ?? {} },
          alertmanagerSpec: {
            // Mounted at /etc/alertmanager/secrets/<name>/.
            secrets: mountedSecrets,
            podMetadata: { labels: props.heartbeat?.identity.podLabels ?? {} },
            storage: { volumeClaimTemplate: { spec: volume() } },
          },
        },
        "kube-state-metrics": {
          // Migration Jobs and Pods are recognised by their component label.
          metricLabelsAllowlist: [`jobs=[${MIGRATION_COMPONENT_LABEL.key}]`, `pods=[${MIGRATION_COMPONENT_LABEL.key}]`],
          // Readiness of Flux objects, ExternalSecrets and Knative revisions.
          ...platformResourceState(),
        },
        grafana: {
          admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: "admin-user", passwordKey: "admin-password" },
          persistence: { enabled: true, ...volume() },
          additionalDataSources: props.dataSources ?? [],
        },
        prometheus: {
          ...(props.publishAnnotations === undefined ? {} : { service: { type: "LoadBalancer", annotations: props.publishAnnotations } }),
          prometheusSpec: {
            // Select ServiceMonitors, PodMonitors and rules of every release
            // and namespace, not only those labelled for this release.
            ruleSelectorNilUsesHelmValues: false,
            serviceMonitorSelectorNilUsesHelmValues: false,
            podMonitorSelectorNilUsesHelmValues: false,
            probeSelectorNilUsesHelmValues: false,
            scrapeConfigSelectorNilUsesHelmValues: false,
            storageSpec: { volumeClaimTemplate: { spec: volume() } },
            ...(props.clusterLabel === undefined ? {} : { externalLabels: { cluster: props.clusterLabel } }),
          },
        },
      },
    });
  }
}

/** The settings of Alertmanager's mail relay, in the kube-prometheus-stack values files. */
export const SMTP_SETTINGS = ["smtp_smarthost", "smtp_from", "smtp_auth_username"] as const;

/**
 * The mail relay settings that still hold the example's placeholders, for
 * the synth warning: every alert mailed from the cluster goes through that
 * relay. Each is named by the values file it comes from (a cloud's overlay
 * wins over the common file) and its key; nothing when no alert is mailed.
 */
export function smtpPlaceholders(valuesDir: string, clouds: readonly string[], alertEmails: readonly string[]): Placeholder[] {
  if (alertEmails.length === 0) return [];
  const release = MONITORING_RELEASE;
  const found = new Map<string, Placeholder>();
  for (const cloud of clouds) {
    const files = [`${release}.yaml`, `${release}.${cloud}.yaml`].filter((file) => existsSync(path.join(valuesDir, file)));
    const layers = userValues(valuesDir, release, cloud);
    for (const setting of SMTP_SETTINGS) {
      // The last file that sets it is the one that wins.
      let index = layers.length - 1;
      while (index >= 0 && smtpGlobal(layers[index])[setting] === undefined) index--;
      if (index < 0) continue;
      const file = path.join(path.basename(valuesDir), files[index]);
      for (const placeholder of findPlaceholders({ [setting]: smtpGlobal(layers[index])[setting] })) {
        const key = `${file}: alertmanager.config.global.${placeholder.path}`;
        found.set(key, { ...placeholder, path: key });
      }
    }
  }
  return [...found.values()];
}

function smtpGlobal(values: Record<string, unknown>): Record<string, unknown> {
  const global = (values.alertmanager as { config?: { global?: Record<string, unknown> } } | undefined)?.config?.global;
  return global ?? {};
}
