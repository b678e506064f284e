import { pemOf, requireOutput, type BackupState, type CloudProbe, type ClusterOutputs, type DatabaseState, type HeartbeatState, type RecoveryTier, type ZoneRecord, type ZoneState } from "../cloud";
import type { ClusterEndpoint } from "../kubernetes";
import type { ClusterTarget, EnvironmentTarget } from "../targets";
import { withTimeout } from "../timeout";

/** The audiences the doctor asks Entra ID tokens for. */
export const AZURE_SCOPES = {
  arm: "https://management.azure.com/.default",
  logs: "https://api.loganalytics.io/.default",
  storage: "https://storage.azure.com/.default",
  /** The AKS Entra ID server application, the audience of every AKS API token (kubelogin's `--server-id`). */
  aks: "6dae42f8-4368-4678-94ff-3960e28e3630/.default",
} as const;
export type AzureScope = keyof typeof AZURE_SCOPES;

/**
 * Azure's REST APIs as the doctor uses them: a GET, and the POST of a log
 * query, each with a bearer token for one audience. The real one is the
 * Azure SDK's HTTP pipeline with @azure/identity; tests answer with the
 * documented JSON of each API version.
 */
export interface AzureRest {
  get(url: string, scope: AzureScope, signal?: AbortSignal): Promise<any>;
  post(url: string, scope: AzureScope, body: unknown, signal?: AbortSignal): Promise<any>;
  token(scope: AzureScope): Promise<string>;
}

/** An error answer of an Azure API, with its code (`AuthorizationFailed`, `ResourceNotFound`). */
export class AzureError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = code;
  }
}

/** Each resource type's REST API version, the one its fixtures document. */
export const AZURE_API_VERSIONS = {
  dns: "2018-05-01",
  postgres: "2024-08-01",
  metrics: "2018-01-01",
  scheduledQueryRules: "2023-03-15-preview",
  dataProtection: "2024-04-01",
} as const;

const ARM = "https://management.azure.com";
const arm = (id: string, apiVersion: string, query = ""): string => `${ARM}${id}?api-version=${apiVersion}${query}`;

/** Flexible Server states in which it serves connections. */
const SERVING = new Set(["Ready", "Updating"]);

/** Hours between recovery points of a Data Protection retention tag. */
function tagIntervalHours(tag: string): number {
  if (/^default$|daily/i.test(tag)) return 24;
  if (/week/i.test(tag)) return 24 * 7;
  if (/month/i.test(tag)) return 24 * 31;
  if (/year/i.test(tag)) return 24 * 366;
  return 24;
}

function compare(value: number, operator: string, threshold: number): boolean {
  switch (operator) {
    case "LessThan":
      return value < threshold;
    case "LessThanOrEqual":
      return value <= threshold;
    case "GreaterThan":
      return value > threshold;
    case "GreaterThanOrEqual":
      return value >= threshold;
    default:
      return value === threshold;
  }
}

/** The probe of one AKS cluster, from the outputs of `azure-platform` and `azure-<env>-data`. */
export function azureProbe(target: ClusterTarget, outputs: ClusterOutputs, rest: AzureRest, timeoutMs: number, now: () => Date = () => new Date()): CloudProbe {
  const platform = target.stacks.platform;
  const clusterName = requireOutput(outputs.platform, platform, "cluster_name");
  const get = (url: string, scope: AzureScope = "arm") => withTimeout(`GET ${url.replace(/\?.*/, "")}`, timeoutMs, (signal) => rest.get(url, scope, signal));
  /** Every page of a list (`value`, `nextLink`). */
  const list = async (url: string): Promise<any[]> => {
    const items: any[] = [];
    let next: string | undefined = url;
    for (let page = 0; next && page < 50; page++) {
      const answer = await get(next);
      items.push(...(answer.value ?? []));
      next = answer.nextLink;
    }
    return items;
  };
  const dataOutput = (environment: EnvironmentTarget, name: string) => requireOutput(outputs.data[environment.name], environment.stacks.data, name);

  return {
    cloud: "azure",
    clusterName,

    async endpoint(): Promise<ClusterEndpoint> {
      const fqdn = requireOutput(outputs.platform, platform, "cluster_fqdn");
      const ca = requireOutput(outputs.platform, platform, "cluster_ca_certificate");
      const token = await withTimeout("Entra ID token for AKS", timeoutMs, () => rest.token("aks"));
      return { name: clusterName, server: `https://${fqdn}:443`, caPem: pemOf(ca), token };
    },

    async zone(): Promise<ZoneState> {
      const zoneId = requireOutput(outputs.platform, platform, "dns_zone_id");
      const zone = await get(arm(zoneId, AZURE_API_VERSIONS.dns));
      const sets = await list(arm(`${zoneId}/recordsets`, AZURE_API_VERSIONS.dns));
      const records: ZoneRecord[] = sets.map((set) => {
        const type = String(set.type ?? "").split("/").pop()!.toUpperCase();
        const p = set.properties ?? {};
        const values = p.targetResource?.id
          ? [p.targetResource.id]
          : [
              ...(p.ARecords ?? []).map((r: any) => r.ipv4Address),
              ...(p.AAAARecords ?? []).map((r: any) => r.ipv6Address),
              ...(p.CNAMERecord ? [p.CNAMERecord.cname] : []),
              ...(p.TXTRecords ?? []).flatMap((r: any) => r.value ?? []),
              ...(p.NSRecords ?? []).map((r: any) => r.nsdname),
            ];
        return { name: String(p.fqdn ?? `${set.name}.${zone.name}`).replace(/\.$/, "").toLowerCase(), type, values };
      });
      return {
        zone: String(zone.name).toLowerCase(),
        nameServers: (zone.properties?.nameServers ?? []).map((ns: string) => ns.replace(/\.$/, "").toLowerCase()),
        records,
        source: `Azure DNS zone ${zone.name}`,
      };
    },

    async heartbeat(minutes: number): Promise<HeartbeatState> {
      const ruleId = requireOutput(outputs.platform, platform, "heartbeat_alert_id");
      const rule = await get(arm(ruleId, AZURE_API_VERSIONS.scheduledQueryRules));
      const criterion = rule.properties?.criteria?.allOf?.[0];
      const scope = rule.properties?.scopes?.[0];
      if (!criterion?.query || !scope) throw new Error(`alert rule ${rule.name ?? ruleId} has no query or scope`);
      const answer = await withTimeout("Log Analytics query", timeoutMs, (signal) =>
        rest.post(`https://api.loganalytics.io/v1${scope}/query`, "logs", { query: criterion.query, timespan: `PT${minutes}M` }, signal),
      );
      const table = answer.tables?.[0];
      const column = (table?.columns ?? []).findIndex((c: any) => c.name === criterion.metricMeasureColumn);
      const value = Number(column >= 0 ? table.rows?.[0]?.[column] : 0) || 0;
      const firing = compare(value, criterion.operator, Number(criterion.threshold));
      return {
        received: !firing,
        measured: `${criterion.metricMeasureColumn} = ${value}`,
        windowMinutes: minutes,
        alarmState: rule.properties?.enabled === false ? "disabled" : firing ? "would fire" : "quiet",
        source: `alert rule ${rule.name}, which fires on ${criterion.metricMeasureColumn} ${criterion.operator} ${criterion.threshold}`,
      };
    },

    async database(environment: EnvironmentTarget): Promise<DatabaseState> {
      const serverId = dataOutput(environment, "database_server_id");
      const server = await get(arm(serverId, AZURE_API_VERSIONS.postgres));
      const end = now();
      const start = new Date(end.getTime() - 15 * 60_000);
      const metrics = await get(
        arm(`${serverId}/providers/Microsoft.Insights/metrics`, AZURE_API_VERSIONS.metrics, `&metricnames=active_connections&aggregation=Maximum&interval=PT5M&timespan=${start.toISOString()}/${end.toISOString()}`),
      );
      const maxima: number[] = (metrics.value?.[0]?.timeseries ?? []).flatMap((series: any) => (series.data ?? []).map((d: any) => d.maximum).filter((m: unknown) => typeof m === "number"));
      const state = server.properties?.state ?? "unknown";
      return {
        state,
        up: SERVING.has(state),
        endpoint: server.properties?.fullyQualifiedDomainName,
        connections: maxima.length > 0 ? Math.max(...maxima) : undefined,
        createdAt: server.systemData?.createdAt ? new Date(server.systemData.createdAt) : undefined,
        source: `Flexible Server ${server.name}`,
      };
    },

    async backups(environment: EnvironmentTarget): Promise<BackupState> {
      const instanceId = dataOutput(environment, "backup_instance_id");
      const points = await list(arm(`${instanceId}/recoveryPoints`, AZURE_API_VERSIONS.dataProtection));
      const tiers = new Map<string, RecoveryTier>();
      for (const point of points) {
        const p = point.properties ?? {};
        if (!p.recoveryPointTime) continue;
        const name = String(p.retentionTagName ?? "Default");
        const tier = name === "Default" ? "daily" : name.toLowerCase();
        const created = new Date(p.recoveryPointTime);
        const known = tiers.get(tier);
        tiers.set(tier, {
          tier,
          intervalHours: tagIntervalHours(name),
          count: (known?.count ?? 0) + 1,
          latest: !known?.latest || created > known.latest ? created : known.latest,
        });
      }
      // The daily tier is always expected, even before its first recovery point.
      if (!tiers.has("daily")) tiers.set("daily", { tier: "daily", intervalHours: 24, count: 0 });
      return { tiers: [...tiers.values()].sort((a, b) => a.intervalHours - b.intervalHours), source: `backup instance ${instanceId.split("/").pop()}` };
    },
  };
}

/** The real REST client: the Azure SDK's pipeline with the default credential chain (Azure CLI, workload identity, managed identity, environment). */
export async function azureRest(timeoutMs: number): Promise<AzureRest> {
  const [{ DefaultAzureCredential }, pipeline] = await Promise.all([import("@azure/identity"), import("@azure/core-rest-pipeline")]);
  const credential = new DefaultAzureCredential();
  const client = pipeline.createDefaultHttpClient();
  const pipelines = new Map<AzureScope, ReturnType<typeof pipeline.createPipelineFromOptions>>();
  const pipelineFor = (scope: AzureScope) => {
    let p = pipelines.get(scope);
    if (!p) {
      p = pipeline.createPipelineFromOptions({ retryOptions: { maxRetries: 1 } });
      p.addPolicy(pipeline.bearerTokenAuthenticationPolicy({ credential, scopes: AZURE_SCOPES[scope] }));
      pipelines.set(scope, p);
    }
    return p;
  };
  const send = async (method: "GET" | "POST", url: string, scope: AzureScope, body: unknown, signal?: AbortSignal) => {
    const request = pipeline.createPipelineRequest({
      url,
      method,
      timeout: timeoutMs,
      abortSignal: signal,
      headers: pipeline.createHttpHeaders({ accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const response = await pipelineFor(scope).sendRequest(client, request);
    const text = response.bodyAsText ?? "";
    if (response.status >= 300) {
      let code = `HTTP${response.status}`;
      let message = text.slice(0, 300);
      try {
        const error = JSON.parse(text).error;
        code = error?.code ?? code;
        message = error?.message ?? message;
      } catch {
        // Not a JSON error body.
      }
      throw new AzureError(response.status, code, message);
    }
    return text ? JSON.parse(text) : {};
  };
  return {
    get: (url, scope, signal) => send("GET", url, scope, undefined, signal),
    post: (url, scope, body, signal) => send("POST", url, scope, body, signal),
    token: async (scope) => {
      const token = await credential.getToken(AZURE_SCOPES[scope]);
      if (!token) throw new Error(`no Entra ID token for ${AZURE_SCOPES[scope]}`);
      return token.token;
    },
  };
}

/** Reads a state blob (`x-ms-version` 2021-08-06 or later accepts Entra ID tokens); undefined when it does not exist. */
export async function readAzureBlob(location: { account: string; container: string; key: string }, timeoutMs: number): Promise<string | undefined> {
  const [{ DefaultAzureCredential }, pipeline] = await Promise.all([import("@azure/identity"), import("@azure/core-rest-pipeline")]);
  const p = pipeline.createPipelineFromOptions({ retryOptions: { maxRetries: 1 } });
  p.addPolicy(pipeline.bearerTokenAuthenticationPolicy({ credential: new DefaultAzureCredential(), scopes: AZURE_SCOPES.storage }));
  const key = location.key.split("/").map(encodeURIComponent).join("/");
  const request = pipeline.createPipelineRequest({
    url: `https://${location.account}.blob.core.windows.net/${location.container}/${key}`,
    method: "GET",
    timeout: timeoutMs,
    headers: pipeline.createHttpHeaders({ "x-ms-version": "2023-11-03" }),
  });
  const response = await p.sendRequest(pipeline.createDefaultHttpClient(), request);
  if (response.status === 404) return undefined;
  if (response.status >= 300) throw new AzureError(response.status, `HTTP${response.status}`, `reading state blob ${location.key}: ${(response.bodyAsText ?? "").slice(0, 200)}`);
  return response.bodyAsText ?? "";
}
