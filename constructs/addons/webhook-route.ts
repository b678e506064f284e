import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { IN_CLUSTER } from "../contract";
import { ManifestsRelease, type KubernetesObject } from "../kubernetes/manifests-release";
import { FLUX } from "./flux";
import { KNATIVE_SERVING_NAMESPACE } from "./knative";
import { MONITORING_NAMESPACE } from "./monitoring";

/**
 * The proxy's image: nginx's own unprivileged build (listens on 8080, runs as
 * uid 101, writes only under /tmp). Knative resolves the tag to a digest when
 * it creates a revision, so a revision never changes under a running proxy.
 */
export const WEBHOOK_PROXY_IMAGE = "docker.io/nginxinc/nginx-unprivileged:1.29.1-alpine";

/**
 * Limits on what reaches the notification-controller from the internet. GitHub
 * caps a delivery at 25 MB, but a push event lists at most 20 commits in
 * detail and is a few hundred kilobytes even for large pushes; ACR and
 * EventBridge send a few kilobytes. Kourier's load balancer hides client
 * addresses (docs/dns-and-tls.md), so the rate is per host, not per client:
 * generous for a repository's pushes, low enough that a flood of guessed
 * paths cannot keep the controller busy.
 */
export const WEBHOOK_PROXY_LIMITS = { bodySize: "1m", ratePerSecond: 5, burst: 50 } as const;

/** Where the proxy listens: nginx-unprivileged's default port. */
const PROXY_PORT = 8080;

/** The in-cluster address the proxy forwards to: the notification-controller's `webhook-receiver` Service. */
export const webhookReceiverAddress = (): string => `${FLUX.webhookReceiver.service}.${FLUX.namespace}.svc.cluster.local:${FLUX.webhookReceiver.port}`;

/**
 * nginx's server block: only `POST /hook/<hex digest>` is passed on, with a
 * body limit and a request rate per host; everything else is a 403 that never
 * reaches Flux (403 rather than 404: a 404 then always comes from the
 * notification-controller, which alerts count as a rejected delivery). `limit_req_zone` sits beside the server in the http context,
 * where nginx includes `conf.d/*.conf`.
 */
export function webhookProxyConfig(limits = WEBHOOK_PROXY_LIMITS): string {
  return [
    `limit_req_zone $host zone=hooks:1m rate=${limits.ratePerSecond}r/s;`,
    "limit_req_status 429;",
    "server {",
    `  listen ${PROXY_PORT};`,
    "  server_tokens off;",
    `  client_max_body_size ${limits.bodySize};`,
    "  location ~ ^/hook/[0-9a-f]{64}$ {",
    "    limit_except POST { deny all; }",
    `    limit_req zone=hooks burst=${limits.burst} nodelay;`,
    `    proxy_pass http://${webhookReceiverAddress()};`,
    "    proxy_set_header Host $host;",
    "    proxy_read_timeout 30s;",
    "  }",
    "  location / { return 403; }",
    "}",
    "",
  ].join("\n");
}

export interface WebhookRouteProps {
  /** The public host of each environment's webhooks, `hooks.<environment domain>`. */
  readonly hosts: readonly string[];
  /** Knative Serving (its CRDs and the gateway). */
  readonly dependsOn: ITerraformDependable[];
}

/**
 * The public HTTPS route to Flux's webhook Receivers. Kourier serves only
 * Knative routes, and a DomainMapping to a plain Service never becomes Ready
 * on it (Kourier routes a mapping through its internal gateway, which knows
 * only Knative Services). So a small nginx runs as a cluster-local Knative
 * Service and forwards `/hook/...` to the `webhook-receiver` Service, and a
 * DomainMapping per environment serves it at `hooks.<environment domain>`:
 * the name is under the environment's wildcard, so the existing DNS record
 * and the one certificate on the gateway already cover it. No load balancer,
 * certificate or DNS record of its own, and nothing that differs by cloud.
 *
 * The proxy runs in a namespace of its own rather than in Flux's: Flux's
 * network policies admit only the namespace's own pods, and the gateway is
 * not one; from here the notification-controller's `allow-webhooks` policy
 * admits it.
 */
export class WebhookRoute extends Construct {
  static readonly NAMESPACE = "flux-webhooks";
  static readonly SERVICE = "receiver";
  readonly release: ManifestsRelease;

  constructor(scope: Construct, id: string, props: WebhookRouteProps) {
    super(scope, id);
    if (props.hosts.length === 0) throw new Error(`${this.node.path}: a webhook route needs at least one host`);
    const namespace = WebhookRoute.NAMESPACE;
    const restricted = Object.fromEntries(["enforce", "warn", "audit"].map((mode) => [`pod-security.kubernetes.io/${mode}`, "restricted"]));
    const ns = new NamespaceV1(this, "namespace", { metadata: { name: namespace, labels: { ...restricted, "app.kubernetes.io/managed-by": "cdktf" } } });
    this.release = new ManifestsRelease(this, "manifests", {
      name: "flux-webhooks",
      namespace,
      manifests: webhookRouteObjects(props.hosts),
      dependsOn: [ns, ...props.dependsOn],
    });
  }
}

/** The proxy, its policy, and per host a DomainMapping and the cluster-wide claim on the name. */
export function webhookRouteObjects(hosts: readonly string[]): KubernetesObject[] {
  const namespace = WebhookRoute.NAMESPACE;
  const name = WebhookRoute.SERVICE;
  const labels = { "app.kubernetes.io/name": "flux-webhooks" };
  return [
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace }, data: { "default.conf": webhookProxyConfig() } },
    {
      apiVersion: "serving.knative.dev/v1",
      kind: "Service",
      // Cluster-local: reachable from outside only through the DomainMappings.
      metadata: { name, namespace, labels: { ...labels, "networking.knative.dev/visibility": "cluster-local" } },
      spec: {
        template: {
          metadata: {
            labels: { ...labels },
            // Always one running: a webhook should not wait for a cold start, and GitHub gives up after 10 seconds.
            annotations: { "autoscaling.knative.dev/min-scale": "1", "autoscaling.knative.dev/max-scale": "3" },
          },
          spec: {
            containerConcurrency: 50,
            timeoutSeconds: 30,
            containers: [
              {
                image: WEBHOOK_PROXY_IMAGE,
                ports: [{ containerPort: PROXY_PORT }],
                volumeMounts: [{ name: "config", mountPath: "/etc/nginx/conf.d", readOnly: true }],
                readinessProbe: { tcpSocket: { port: PROXY_PORT } },
                resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } },
                securityContext: {
                  runAsNonRoot: true,
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: ["ALL"] },
                  seccompProfile: { type: "RuntimeDefault" },
                },
              },
            ],
            volumes: [{ name: "config", configMap: { name } }],
          },
        },
      },
    },
    ...hosts.flatMap((host): KubernetesObject[] => [
      // The claim gives this namespace the name, so no other namespace can map it.
      { apiVersion: "networking.internal.knative.dev/v1alpha1", kind: "ClusterDomainClaim", metadata: { name: host }, spec: { namespace } },
      {
        apiVersion: "serving.knative.dev/v1beta1",
        kind: "DomainMapping",
        metadata: { name: host, namespace },
        spec: { ref: { apiVersion: "serving.knative.dev/v1", kind: "Service", name } },
      },
    ]),
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name, namespace },
      spec: {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        // The gateway and the activator (knative-serving), and Prometheus scraping the queue-proxy.
        ingress: [{ from: [KNATIVE_SERVING_NAMESPACE, MONITORING_NAMESPACE].map((ns) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } })) }],
        egress: [
          {
            to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": IN_CLUSTER.flux.namespace } }, podSelector: { matchLabels: { app: "notification-controller" } } }],
            ports: [{ protocol: "TCP", port: "http-webhook" }],
          },
          { ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] },
        ],
      },
    },
  ];
}
