import { createHash } from "node:crypto";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { ContainerRegistry } from "../contract";
import { WEBHOOK_HOST_LABEL } from "../../config/environments";
import { ManifestsRelease, type KubernetesObject } from "../kubernetes/manifests-release";

/**
 * What a Receiver reconciles: any kind the notification-controller's CRD
 * accepts (with the Flux Operator's additions: ResourceSet,
 * ResourceSetInputProvider, FluxInstance). The multi-tenant lockdown refuses
 * references into another namespace, so a Receiver names objects beside it.
 */
export interface ReceiverTarget {
  readonly apiVersion: string;
  readonly kind: string;
  /** A name, or `*` for every object of the kind in the namespace. */
  readonly name: string;
  /** @default - the Receiver's own namespace, the only one the lockdown allows */
  readonly namespace?: string;
}

/** Webhook senders the platform wires: GitHub (HMAC-verified) and the registry's, as the contract names its type. */
export type ReceiverType = "github" | ContainerRegistry["webhookReceiver"];

export interface ReceiverProps {
  readonly name: string;
  readonly namespace: string;
  readonly type: ReceiverType;
  /** Secret in the namespace whose `token` key the webhook path (and, for github, the HMAC) derives from. */
  readonly secretName: string;
  readonly resources: readonly ReceiverTarget[];
  /** @default - the sender's push events: `ping` and `push` for github, none (every event) otherwise */
  readonly events?: readonly string[];
}

/** GitHub's own delivery check and the push of a branch; a registry's notifications are all pushes. */
const defaultEvents = (type: ReceiverType): readonly string[] => (type === "github" ? ["ping", "push"] : []);

/** A Flux Receiver (notification.toolkit.fluxcd.io/v1). */
export function fluxReceiver(props: ReceiverProps): KubernetesObject {
  const events = props.events ?? defaultEvents(props.type);
  return {
    apiVersion: "notification.toolkit.fluxcd.io/v1",
    kind: "Receiver",
    metadata: { name: props.name, namespace: props.namespace },
    spec: {
      type: props.type,
      ...(events.length > 0 && { events: [...events] }),
      secretRef: { name: props.secretName },
      resources: props.resources.map((target) => ({ ...target })),
    },
  };
}

/**
 * The path the notification-controller serves a Receiver on, as it reports it
 * in `status.webhookPath`: `/hook/` and the hex SHA-256 of token, name and
 * namespace, concatenated. Tools read the status; this is for checking it.
 */
export function webhookPath(token: string, name: string, namespace: string): string {
  return `/hook/${createHash("sha256")
    .update(token + name + namespace)
    .digest("hex")}`;
}

/** The annotation whose change makes External Secrets generate a new token (`refreshPolicy: OnChange`). */
export const TOKEN_VERSION_ANNOTATION = "platform.kit/token-version";

/**
 * A random token generated in the cluster by External Secrets (a Password
 * generator), written to a Secret with the `token` key a Receiver reads.
 * Terraform never sees the value. It is generated once and again only when
 * `version` changes.
 */
export function receiverToken(name: string, namespace: string, version: number): KubernetesObject[] {
  const generator = { apiVersion: "generators.external-secrets.io/v1alpha1", kind: "Password", name };
  return [
    {
      apiVersion: generator.apiVersion,
      kind: generator.kind,
      metadata: { name, namespace },
      // Letters and digits only: the token goes into a URL path hash and into GitHub's form as typed.
      spec: { length: 40, digits: 10, symbols: 0, noUpper: false, allowRepeat: true },
    },
    {
      apiVersion: "external-secrets.io/v1",
      kind: "ExternalSecret",
      metadata: { name, namespace, annotations: { [TOKEN_VERSION_ANNOTATION]: String(version) } },
      spec: {
        refreshPolicy: "OnChange",
        dataFrom: [{ sourceRef: { generatorRef: generator } }],
        target: { name, template: { engineVersion: "v2", data: { token: "{{ .password }}" } } },
      },
    },
  ];
}

/**
 * The public host of an environment's webhooks: under the environment's
 * wildcard, so its DNS record and the gateway's certificate already cover it.
 * Every Receiver of the cluster answers there; the path picks the Receiver.
 */
export const webhookHost = (environmentDomain: string): string => `${WEBHOOK_HOST_LABEL}.${environmentDomain}`;

/** Reading the registry Receiver, and nothing else in the namespace, for one service account of another namespace. */
function receiverReader(namespace: string, reader: { readonly name: string; readonly namespace: string }): KubernetesObject[] {
  const name = `${RECEIVER_OBJECTS.registry}-reader`;
  return [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name, namespace },
      rules: [{ apiGroups: ["notification.toolkit.fluxcd.io"], resources: ["receivers"], resourceNames: [RECEIVER_OBJECTS.registry], verbs: ["get"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name, namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name: reader.name, namespace: reader.namespace }],
    },
  ];
}

/** Names in every environment namespace with Receivers. */
export const RECEIVER_OBJECTS = { git: "gitops", registry: "registry", pullRequests: "pull-requests", token: "webhook-token" } as const;

export interface WebhookReceiversProps {
  readonly namespace: string;
  /** The GitRepository a push to the GitOps repository reconciles. @default - no Git receiver */
  readonly gitRepository?: string;
  /** The registry's Receiver type and the ImageRepositories a push rescans. @default - no registry receiver */
  readonly registry?: { readonly type: Exclude<ReceiverType, "github">; readonly imageRepositories: readonly string[] };
  /**
   * ResourceSetInputProviders of GitHub pull requests (previews) that a pull
   * request event refreshes at once.
   * @default - no pull request receiver
   */
  readonly inputProviders?: readonly string[];
  /** Raised to rotate the token. */
  readonly tokenVersion: number;
  /**
   * A service account (of the platform's registry webhook Job) that may read
   * the registry Receiver, for its `status.webhookPath`.
   * @default - none
   */
  readonly registryReader?: { readonly name: string; readonly namespace: string };
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * An environment's webhook Receivers in its own namespace (the multi-tenant
 * lockdown forbids a Receiver elsewhere from reconciling its objects), and
 * the one generated token they share: each Receiver's path still differs,
 * since it hashes the Receiver's name too.
 */
export class WebhookReceivers extends Construct {
  readonly receivers: KubernetesObject[];
  readonly release: ManifestsRelease;

  constructor(scope: Construct, id: string, props: WebhookReceiversProps) {
    super(scope, id);
    const { namespace } = props;
    if (!props.gitRepository && !props.registry && !props.inputProviders?.length) throw new Error(`${this.node.path}: no receiver is asked for`);
    const secretName = RECEIVER_OBJECTS.token;
    this.receivers = [];
    if (props.gitRepository) {
      this.receivers.push(
        fluxReceiver({
          name: RECEIVER_OBJECTS.git,
          namespace,
          type: "github",
          secretName,
          resources: [{ apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", name: props.gitRepository }],
        })
      );
    }
    const registry = props.registry;
    if (registry) {
      if (registry.imageRepositories.length === 0) throw new Error(`${this.node.path}: a registry receiver needs at least one ImageRepository`);
      this.receivers.push(
        fluxReceiver({
          name: RECEIVER_OBJECTS.registry,
          namespace,
          type: registry.type,
          secretName,
          resources: registry.imageRepositories.map((name) => ({ apiVersion: "image.toolkit.fluxcd.io/v1", kind: "ImageRepository", name })),
        })
      );
    }
    if (props.inputProviders?.length) {
      this.receivers.push(
        fluxReceiver({
          name: RECEIVER_OBJECTS.pullRequests,
          namespace,
          type: "github",
          events: ["ping", "pull_request"],
          secretName,
          resources: props.inputProviders.map((name) => ({ apiVersion: "fluxcd.controlplane.io/v1", kind: "ResourceSetInputProvider", name })),
        }),
      );
    }
    const reader = props.registryReader && registry ? receiverReader(namespace, props.registryReader) : [];
    this.release = new ManifestsRelease(this, "manifests", {
      name: `${namespace}-receivers`,
      namespace,
      manifests: [...receiverToken(secretName, namespace, props.tokenVersion), ...this.receivers, ...reader],
      dependsOn: props.dependsOn,
    });
  }
}
