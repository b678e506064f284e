import * as https from "node:https";
import { withTimeout } from "./timeout";

/**
 * Read-only access to one cluster's API: a GET of an API path, answered with
 * the API's JSON. Everything the doctor asks a cluster goes through here (the
 * service proxy to Prometheus, Alertmanager and Loki too), so a test swaps it
 * for recorded responses, and nothing here can create, patch or delete.
 */
export interface KubernetesReader {
  /** The JSON at `path` (`/api/v1/nodes`, `/apis/<group>/<version>/...`); throws a KubernetesError otherwise. */
  get(path: string): Promise<unknown>;
}

export class KubernetesError extends Error {
  constructor(
    readonly status: number,
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${status} ${message}`);
    this.name = "KubernetesError";
  }
}

/** The object at `path`, or undefined when the API answers 404 (no such object, or no such kind). */
export async function getOptional<T = any>(kube: KubernetesReader, path: string): Promise<T | undefined> {
  try {
    return (await kube.get(path)) as T;
  } catch (error) {
    if (error instanceof KubernetesError && error.status === 404) return undefined;
    throw error;
  }
}

/** `items` of a list; an absent kind (404) is an empty list. */
export async function listItems<T = any>(kube: KubernetesReader, path: string): Promise<T[]> {
  const list = await getOptional<{ items?: T[] }>(kube, path);
  return list?.items ?? [];
}

export interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
  readonly lastTransitionTime?: string;
}

export function conditionOf(object: any, type: string): Condition | undefined {
  return (object?.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);
}

/** `Ready=False (Reason): message`, or `no Ready condition` */
export function describeCondition(object: any, type = "Ready"): string {
  const condition = conditionOf(object, type);
  if (!condition) return `no ${type} condition yet`;
  const reason = condition.reason ? ` (${condition.reason})` : "";
  const message = condition.message ? `: ${condition.message.split("\n")[0].slice(0, 200)}` : "";
  return `${type}=${condition.status}${reason}${message}`;
}

export const isTrue = (object: any, type = "Ready"): boolean => conditionOf(object, type)?.status === "True";

/** `/api/v1/namespaces/<ns>/services/<scheme>:<name>:<port>/proxy<path>`: a service reached through the API server. */
export function serviceProxyPath(namespace: string, service: string, port: number, path: string): string {
  return `/api/v1/namespaces/${namespace}/services/http:${service}:${port}/proxy${path}`;
}

/** How to reach and authenticate to a cluster's API server. */
export interface ClusterEndpoint {
  readonly name: string;
  /** `https://...` */
  readonly server: string;
  /** PEM of the API server's certificate authority. */
  readonly caPem: string;
  /** A bearer token: EKS's signed STS request or an Entra ID access token. */
  readonly token: string;
}

/**
 * The reader of a real cluster: @kubernetes/client-node's KubeConfig sets up
 * TLS and authentication, and each GET is bounded by `timeoutMs`.
 */
export async function clusterReader(endpoint: ClusterEndpoint, timeoutMs: number): Promise<KubernetesReader> {
  const { KubeConfig } = await import("@kubernetes/client-node");
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromOptions({
    clusters: [{ name: endpoint.name, server: endpoint.server, caData: Buffer.from(endpoint.caPem).toString("base64"), skipTLSVerify: false }],
    users: [{ name: "doctor", token: endpoint.token }],
    contexts: [{ name: endpoint.name, cluster: endpoint.name, user: "doctor" }],
    currentContext: endpoint.name,
  });
  const server = new URL(endpoint.server);
  return {
    async get(path: string): Promise<unknown> {
      return withTimeout(`GET ${path}`, timeoutMs, async (signal) => {
        const options: https.RequestOptions = {
          method: "GET",
          hostname: server.hostname,
          port: server.port || 443,
          path: `${server.pathname.replace(/\/$/, "")}${path}`,
          headers: { accept: "application/json" },
          signal,
        };
        await kubeconfig.applyToHTTPSOptions(options);
        return new Promise((resolve, reject) => {
          const request = https.request(options, (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () => {
              const body = Buffer.concat(chunks).toString("utf8");
              const status = response.statusCode ?? 0;
              if (status < 200 || status >= 300) {
                let message = body.slice(0, 300);
                try {
                  message = JSON.parse(body).message ?? message;
                } catch {
                  // A proxied service may answer plain text.
                }
                reject(new KubernetesError(status, path, message));
                return;
              }
              try {
                resolve(JSON.parse(body));
              } catch {
                reject(new KubernetesError(status, path, `not JSON: ${body.slice(0, 120)}`));
              }
            });
          });
          request.on("error", reject);
          request.end();
        });
      });
    },
  };
}
