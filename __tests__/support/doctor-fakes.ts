import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { EXAMPLE_CONFIG_PATH, PROJECT_ROOT, validateConfig, type PlatformConfig } from "../../config";
import type { ClusterOutputs } from "../../tools/doctor/cloud";
import { awsProbe, type AwsClient, type AwsClients } from "../../tools/doctor/clouds/aws";
import { azureProbe, type AzureRest } from "../../tools/doctor/clouds/azure";
import { runDoctor, type DoctorClients, type DoctorOptions } from "../../tools/doctor/doctor";
import { KubernetesError, type KubernetesReader } from "../../tools/doctor/kubernetes";
import type { NetProbe, TlsResult } from "../../tools/doctor/net";
import { outputsFromFile } from "../../tools/doctor/outputs";
import type { ClusterReport, Finding } from "../../tools/doctor/report";
import { clusterTargets, type ClusterTarget } from "../../tools/doctor/targets";

/** Recorded API responses (see __tests__/fixtures/doctor/README.md). */
export const FIXTURES = path.join(__dirname, "..", "fixtures", "doctor");

/** The moment the recorded responses were taken. */
export const NOW = new Date("2026-12-04T12:00:00Z");

const read = (file: string): any => JSON.parse(readFileSync(path.join(FIXTURES, file), "utf8"));

/** The healthy recording of an API family with the named defect recordings laid over it. */
function recording(family: string, overlays: readonly string[]): Record<string, any> {
  const result = read(`${family}/healthy.json`);
  for (const overlay of overlays) {
    for (const [key, value] of Object.entries(read(`${family}/${overlay}.json`))) {
      // Nested maps (the internet's recording) merge one level down.
      result[key] = value && typeof value === "object" && !Array.isArray(value) && result[key] && typeof result[key] === "object" && !("$status" in (value as object)) && family === "net" ? { ...result[key], ...(value as object) } : value;
    }
  }
  return result;
}

/** The example config, served by Let's Encrypt's production issuer as a finished platform is. */
export function doctorConfig(change: (raw: any) => void = () => {}): PlatformConfig {
  const raw = parse(readFileSync(EXAMPLE_CONFIG_PATH, "utf8"));
  raw.domain.issuer = "letsencrypt-production";
  change(raw);
  return validateConfig(raw);
}

/** Every call a fake answered, by API: what the doctor asked of each. */
export interface CallLog {
  readonly kubernetes: string[];
  readonly aws: { command: string; input: unknown }[];
  readonly azure: { method: string; url: string }[];
}

export interface Scenario {
  readonly kubernetes?: readonly string[];
  readonly aws?: readonly string[];
  readonly azure?: readonly string[];
  readonly net?: readonly string[];
  /** The cluster API cannot be reached. */
  readonly apiUnreachable?: boolean;
  /** Outputs to drop, as `<stack>.<output>`. */
  readonly withoutOutputs?: readonly string[];
  readonly config?: PlatformConfig;
}

export function fakeKubernetes(responses: Record<string, any>, log: string[]): KubernetesReader {
  return {
    async get(apiPath) {
      log.push(apiPath);
      const answer = responses[apiPath];
      if (answer === undefined) throw new KubernetesError(404, apiPath, "the server could not find the requested resource");
      if (answer && typeof answer === "object" && "$status" in answer) throw new KubernetesError(answer.$status, apiPath, answer.body?.message ?? "");
      return structuredClone(answer);
    },
  };
}

/** Answers an AWS SDK client's `send` from the recording, by command name and the input that tells variants apart. */
export function fakeAwsClient(responses: Record<string, any>, log: CallLog["aws"]): AwsClient {
  return {
    async send(command: any) {
      const name = command.constructor.name.replace(/Command$/, "");
      const input = command.input ?? {};
      log.push({ command: name, input });
      const variant = input.DBInstanceIdentifier ?? input.BackupVaultName ?? input.BackupPlanId ?? input.Namespace;
      const answer = responses[`${name}:${variant}`] ?? responses[name];
      if (answer === undefined) throw Object.assign(new Error(`no recorded response for ${name} ${JSON.stringify(input)}`), { name: "ResourceNotFoundException", $metadata: { httpStatusCode: 404 } });
      return structuredClone(answer);
    },
  };
}

export function fakeAzureRest(responses: Record<string, any>, log: CallLog["azure"]): AzureRest {
  const byKey = new Map(Object.entries(responses).map(([key, value]) => [key.toLowerCase(), value]));
  const answer = (key: string) => {
    const value = byKey.get(key.toLowerCase());
    if (value === undefined) throw Object.assign(new Error(`ResourceNotFound: ${key}`), { name: "ResourceNotFound", status: 404 });
    return structuredClone(value);
  };
  return {
    async get(url) {
      log.push({ method: "GET", url });
      const parsed = new URL(url);
      return answer(`${parsed.pathname}?api-version=${parsed.searchParams.get("api-version")}`);
    },
    async post(url) {
      log.push({ method: "POST", url });
      return answer(`POST ${url}`);
    },
    async token() {
      return "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fake.signature";
    },
  };
}

export function fakeNet(recorded: Record<string, any>, cloud: string): NetProbe {
  const missing = (what: string) => Object.assign(new Error(`${what}: no recorded answer`), { code: "ETIMEOUT" });
  return {
    resolvers: ["1.1.1.1", "8.8.8.8"],
    async resolve(host) {
      return recorded[cloud].resolve[host] ?? [];
    },
    async resolveNs(zone) {
      return recorded[cloud].ns[zone] ?? [];
    },
    async tls(host): Promise<TlsResult> {
      const result = recorded.tls[host];
      if (!result) throw missing(`TLS ${host}`);
      return result;
    },
    async http(url) {
      const result = recorded.http[url];
      if (!result) throw missing(`GET ${url}`);
      return result;
    },
  };
}

/** Runs the doctor on the example config's clusters with every client answered from recordings. */
export async function runScenario(scenario: Scenario = {}, cloud?: "aws" | "azure"): Promise<{ reports: ClusterReport[]; calls: CallLog }> {
  const config = scenario.config ?? doctorConfig();
  const calls: CallLog = { kubernetes: [], aws: [], azure: [] };
  const outputs = read("outputs.json");
  for (const dropped of scenario.withoutOutputs ?? []) {
    const [stack, name] = dropped.split(".");
    delete outputs[stack][name];
  }
  const net = recording("net", scenario.net ?? []);
  const aws = recording("aws", scenario.aws ?? []);
  const azure = recording("azure", scenario.azure ?? []);
  const credentials = async () => ({ accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", sessionToken: "session" });
  const awsClient = fakeAwsClient(aws, calls.aws);
  const awsClients: AwsClients = { eks: awsClient, route53: awsClient, cloudwatch: awsClient, alarms: awsClient, rds: awsClient, backup: awsClient, credentials };
  const clients = (target: ClusterTarget): DoctorClients => ({
    outputs: outputsFromFile(JSON.stringify(outputs), "outputs.json"),
    probe: (t: ClusterTarget, o: ClusterOutputs) => (t.cloud === "aws" ? awsProbe(t, o, awsClients, 1000, () => NOW) : azureProbe(t, o, fakeAzureRest(azure, calls.azure), 1000, () => NOW)),
    kubernetes: async () => {
      if (scenario.apiUnreachable) throw Object.assign(new Error("connect ETIMEDOUT 203.0.113.10:443"), { code: "ETIMEDOUT" });
      const overlays = [...(target.cloud === "azure" ? ["aks"] : []), ...(scenario.kubernetes ?? [])];
      return fakeKubernetes(recording("kubernetes", overlays), calls.kubernetes);
    },
    net: fakeNet(net, target.cloud),
  });
  const options: DoctorOptions = { now: NOW, heartbeatMinutes: 15, checkTimeoutMs: 5000, projectRoot: PROJECT_ROOT };
  const reports: ClusterReport[] = [];
  for (const target of clusterTargets(config).filter((t) => !cloud || t.cloud === cloud)) {
    reports.push(...(await runDoctor([target], clients(target), options)));
  }
  return { reports, calls };
}

/** The findings of a run, flattened, as `status component/check: evidence`. */
export const rows = (reports: readonly ClusterReport[]): Finding[] => reports.flatMap((r) => r.findings);
export const find = (reports: readonly ClusterReport[], check: string | RegExp): Finding[] =>
  rows(reports).filter((f) => (typeof check === "string" ? f.check === check : check.test(f.check)));
export const notOk = (reports: readonly ClusterReport[]): string[] => rows(reports).filter((f) => f.status !== "ok").map((f) => `${f.status} ${f.component}/${f.check}: ${f.evidence}`);
