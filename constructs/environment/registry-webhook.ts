import { createHash } from "node:crypto";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { IN_CLUSTER, registryWebhookServiceAccount, type RegistryWebhookAccess } from "../contract";
import { ManifestsRelease, type KubernetesObject } from "../kubernetes/manifests-release";
import { ApplicationServiceAccount } from "./application-service-account";
import { RECEIVER_OBJECTS } from "./receiver";

/** Flux's CLI image, released with Flux under the same tag: `kubectl` and a shell (Alpine), running as nobody. */
export const fluxCliImage = (fluxVersion: string): string => `ghcr.io/fluxcd/flux-cli:v${fluxVersion}`;

/** Where the Receiver's URL is handed from the first container to the second: memory, never a disk. */
const WORK_DIR = "/work";
const URL_FILE = `${WORK_DIR}/url`;
const UID = 65534;

/** How long the first container waits for the Receiver's path: the token is generated and the Receiver reconciled within seconds. */
const WAIT_ATTEMPTS = 30;
const WAIT_SECONDS = 10;

/** The registry's webhook is put back every hour too: a registry or EventBridge change by hand is undone. */
export const REGISTRY_WEBHOOK_SCHEDULE = "17 * * * *";

/**
 * The first container's script: waits for the Receiver to report its path
 * (`status.webhookPath`, never computed here) and writes the full URL to a
 * file. Nothing prints the URL.
 */
export const RECEIVER_URL_SCRIPT = [
  "set -eu",
  'path=""',
  `for attempt in $(seq 1 ${WAIT_ATTEMPTS}); do`,
  `  path=$(kubectl get receiver "$RECEIVER_NAME" --namespace "$RECEIVER_NAMESPACE" -o jsonpath='{.status.webhookPath}' 2>/dev/null || true)`,
  '  case "$path" in /hook/*) break ;; esac',
  `  sleep ${WAIT_SECONDS}`,
  "done",
  'case "$path" in /hook/*) ;; *) echo "Receiver $RECEIVER_NAMESPACE/$RECEIVER_NAME reports no webhook path: is it Ready?" >&2; exit 1 ;; esac',
  `printf 'https://%s%s' "$WEBHOOK_HOST" "$path" > "${URL_FILE}"`,
  'echo "Receiver $RECEIVER_NAMESPACE/$RECEIVER_NAME has its path"',
  "",
].join("\n");

export interface RegistryWebhookProps {
  /** The environment, whose namespace holds the `registry` Receiver. */
  readonly environment: string;
  /** `hooks.<environment domain>`. */
  readonly host: string;
  /** The Flux release (config `flux.version`), naming the CLI image. */
  readonly fluxVersion: string;
  readonly access: RegistryWebhookAccess;
  /** The Receivers' release. */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * Points the registry's push notifications for one environment at its
 * `registry` Receiver, from the cluster: a Job at every apply that changes
 * what it does (a new token gives the Receiver a new path, and the Job's
 * Receiver-side revision changes with `tokenVersion`), and a CronJob every
 * hour. Both run in the platform's namespace for it, as a service account
 * that may read that one Receiver in the environment's namespace, and carry
 * the cloud identity that may change that one webhook. Terraform never holds
 * the URL: the Receiver's path is its credential.
 */
export function registryWebhookManifests(props: RegistryWebhookProps & { readonly revision: string }): KubernetesObject[] {
  const namespace = IN_CLUSTER.registryWebhooks.namespace;
  const name = registryWebhookServiceAccount(props.environment);
  // Fresh objects everywhere: a shared one would be written as a YAML alias.
  const labels = () => ({ "app.kubernetes.io/name": "registry-webhook", "app.kubernetes.io/instance": name, "app.kubernetes.io/managed-by": "cdktf" });
  const env = (values: Record<string, string>) => Object.entries(values).map(([key, value]) => ({ name: key, value }));
  const securityContext = () => ({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
  const resources = () => ({ requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } });
  const podSpec = () => ({
    restartPolicy: "Never",
    serviceAccountName: name,
    // kubectl reads the Receiver with the service account's token.
    automountServiceAccountToken: true,
    securityContext: { runAsNonRoot: true, runAsUser: UID, runAsGroup: UID, fsGroup: UID, seccompProfile: { type: "RuntimeDefault" } },
    initContainers: [
      {
        name: "receiver",
        image: fluxCliImage(props.fluxVersion),
        command: ["/bin/sh", "-c", RECEIVER_URL_SCRIPT],
        env: env({ RECEIVER_NAMESPACE: props.environment, RECEIVER_NAME: RECEIVER_OBJECTS.registry, WEBHOOK_HOST: props.host }),
        volumeMounts: [{ name: "work", mountPath: WORK_DIR }],
        resources: resources(),
        securityContext: securityContext(),
      },
    ],
    containers: [
      {
        name: "registry",
        image: props.access.image,
        command: ["/bin/sh", "-c", `set -eu\n${props.access.script}`],
        // The CLIs keep their caches and logins under HOME.
        env: env({ ...props.access.env, WEBHOOK_URL_FILE: URL_FILE, HOME: "/home/webhook" }),
        volumeMounts: [
          { name: "work", mountPath: WORK_DIR, readOnly: true },
          { name: "home", mountPath: "/home/webhook" },
        ],
        resources: resources(),
        securityContext: securityContext(),
      },
    ],
    volumes: [
      { name: "work", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
      { name: "home", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
    ],
  });
  const jobSpec = () => ({
    backoffLimit: 3,
    activeDeadlineSeconds: WAIT_ATTEMPTS * WAIT_SECONDS + 240,
    template: { metadata: { labels: { ...labels(), ...props.access.identity.podLabels } }, spec: podSpec() },
  });
  return [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name, namespace: props.environment, labels: labels() },
      rules: [{ apiGroups: ["notification.toolkit.fluxcd.io"], resources: ["receivers"], resourceNames: [RECEIVER_OBJECTS.registry], verbs: ["get"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name, namespace: props.environment, labels: labels() },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    },
    { apiVersion: "batch/v1", kind: "Job", metadata: { name: `${name}-${props.revision}`, namespace, labels: labels() }, spec: { ...jobSpec(), ttlSecondsAfterFinished: 7 * 24 * 3600 } },
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name, namespace, labels: labels() },
      spec: { schedule: REGISTRY_WEBHOOK_SCHEDULE, concurrencyPolicy: "Forbid", successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 3, jobTemplate: { spec: jobSpec() } },
    },
  ];
}

/** The service account with the cloud identity and the Jobs, in a release of their own. */
export class RegistryWebhook extends Construct {
  readonly manifests: KubernetesObject[];
  readonly release: ManifestsRelease;

  constructor(scope: Construct, id: string, props: RegistryWebhookProps & { readonly tokenVersion: number }) {
    super(scope, id);
    const namespace = IN_CLUSTER.registryWebhooks.namespace;
    const serviceAccount = new ApplicationServiceAccount(this, "service-account", {
      name: registryWebhookServiceAccount(props.environment),
      namespace,
      identity: props.access.identity,
      dependsOn: props.dependsOn,
    });
    // A new Job whenever what it does changes; the token's version changes the Receiver's path.
    // Only values known at synth: a reference to another stack would rename the Job at random.
    const revision = createHash("sha256")
      .update(JSON.stringify([props.host, props.fluxVersion, props.access.image, props.access.script, props.tokenVersion]))
      .digest("hex")
      .slice(0, 8);
    this.manifests = registryWebhookManifests({ ...props, revision });
    this.release = new ManifestsRelease(this, "manifests", {
      name: `registry-webhook-${props.environment}`,
      namespace,
      manifests: this.manifests,
      dependsOn: [serviceAccount.serviceAccount, ...(props.dependsOn ?? [])],
    });
  }
}
