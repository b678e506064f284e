import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { IN_CLUSTER, registryWebhookServiceAccount, type RegistryWebhookAccess } from "../contract";
import { RECEIVER_OBJECTS } from "../environment/receiver";
import { ManifestsRelease, type KubernetesObject } from "../kubernetes/manifests-release";

/** Flux's CLI image, released with Flux under the same tag: `kubectl` and a shell (Alpine), running as nobody. */
export const fluxCliImage = (fluxVersion: string): string => `ghcr.io/fluxcd/flux-cli:v${fluxVersion}`;

/** Where the Receiver's URL is handed from the first container to the second: memory, never a disk. */
const WORK_DIR = "/work";
const URL_FILE = `${WORK_DIR}/url`;
const UID = 65534;

/** How long the first container waits for the Receiver's path: the token is generated and the Receiver reconciled within seconds. */
const WAIT_ATTEMPTS = 30;
const WAIT_SECONDS = 10;

/**
 * Every 15 minutes: a Receiver's path appears or changes after the add-ons
 * are applied (a first deploy, where the environments come after the
 * add-ons; a raised `tokenVersion`), and a webhook changed by hand is put
 * back. `kubectl -n registry-webhooks create job --from=cronjob/webhook-<env>
 * webhook-<env>-now` runs it at once.
 */
export const REGISTRY_WEBHOOK_SCHEDULE = "*/15 * * * *";



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
}

/**
 * Points the registry's push notifications for one environment at its
 * `registry` Receiver, from the cluster: a CronJob every 15 minutes, in the
 * platform's namespace for it, as a service account that may read the
 * environment's `registry` Receiver (the environment stack binds it:
 * `WebhookReceivers`' `registryReader`) and carries the cloud identity that
 * may change that one environment's webhook. Terraform never holds the URL:
 * the Receiver's path is its credential.
 */
export function registryWebhookManifests(props: RegistryWebhookProps): KubernetesObject[] {
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
        command: ["/bin/sh", "-c", props.access.script],
        // The cloud's names and ids as the contract gives them; the CLIs keep their caches and logins under HOME.
        envFrom: [{ configMapRef: { name } }],
        env: env({ WEBHOOK_URL_FILE: URL_FILE, HOME: "/home/webhook" }),
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
    // The identity's pod labels alone (Azure Workload Identity selects pods by them).
    template: { metadata: { labels: { ...props.access.identity.podLabels } }, spec: podSpec() },
  });
  return [
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name, namespace, labels: labels(), annotations: { ...props.access.identity.serviceAccountAnnotations } },
      // The pods mount the token themselves: kubectl reads the Receiver with it.
      automountServiceAccountToken: false,
    },

    { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace, labels: labels() }, data: { ...props.access.env } },
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name, namespace, labels: labels() },
      spec: { schedule: REGISTRY_WEBHOOK_SCHEDULE, concurrencyPolicy: "Forbid", startingDeadlineSeconds: 600, successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 3, jobTemplate: { spec: jobSpec() } },
    },
  ];
}

export interface RegistryWebhooksProps {
  /** Per environment of the cluster: its webhook host and what the cloud gives its Job. */
  readonly environments: readonly { readonly name: string; readonly host: string; readonly access: RegistryWebhookAccess }[];
  readonly fluxVersion: string;
  /** Flux (the Receiver CRD) and the namespace. */
  readonly dependsOn: ITerraformDependable[];
}

/**
 * Every environment's registry webhook CronJob, with their service
 * accounts and cloud identities, in the platform namespace for them: applied
 * with the add-ons, by the identity that applies the platform, so no
 * environment's deployer can run a Job holding a registry identity.
 */
export class RegistryWebhooks extends Construct {
  readonly manifests: KubernetesObject[];
  readonly release: ManifestsRelease;

  constructor(scope: Construct, id: string, props: RegistryWebhooksProps) {
    super(scope, id);
    if (props.environments.length === 0) throw new Error(`${this.node.path}: no environment has a registry webhook`);
    this.manifests = [
      ...props.environments.flatMap(({ name, host, access }) => registryWebhookManifests({ environment: name, host, fluxVersion: props.fluxVersion, access })),
    ];
    this.release = new ManifestsRelease(this, "manifests", {
      name: "registry-webhooks",
      namespace: IN_CLUSTER.registryWebhooks.namespace,
      manifests: this.manifests,
      dependsOn: props.dependsOn,
    });
  }
}
