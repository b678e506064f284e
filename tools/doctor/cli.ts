import { appendFileSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { ConfigError, ConfigPathError, describeConfigPath, loadConfig, PROJECT_ROOT, resolveConfigPath, type PlatformConfig } from "../../config";
import type { CloudProbe } from "./cloud";
import { runDoctor, type DoctorClients, type Progress } from "./doctor";
import { clusterReader } from "./kubernetes";
import { PUBLIC_RESOLVERS, realNet } from "./net";
import { outputsFromFile, outputsFromState, type OutputsSource, type StateReaders } from "./outputs";
import { COMPONENTS, exitCode, renderJson, renderMarkdown, renderText } from "./report";
import { clusterTargets } from "./targets";

export const USAGE = `Usage: npm run doctor -- [options]

Checks the deployed platform of the configuration cdktf.json names (or PLATFORM_CONFIG),
read-only, and prints a table per cluster. Exit code 1 when a check fails.

Options:
  --json                    JSON on stdout instead of the table
  --markdown <file>         also append the tables as markdown (e.g. "$GITHUB_STEP_SUMMARY")
  --outputs <file>          stack outputs from a file (cdktf deploy --outputs-file, or
                            { "<stack>": <terraform output -json> }) instead of the state
  --cloud <aws|azure>       only this cloud's clusters
  --only <components>       only these components: ${COMPONENTS.join(", ")}
  --heartbeat-minutes <n>   the heartbeat must have arrived within n minutes (default 15)
  --timeout <seconds>       bound of each call (default 20)
  --resolver <ip,...>       DNS resolvers for the public checks (default ${PUBLIC_RESOLVERS.join(",")})
  --help`;

export interface CliOptions {
  readonly json: boolean;
  readonly markdown?: string;
  readonly outputs?: string;
  readonly cloud?: string;
  readonly only?: string[];
  readonly heartbeatMinutes: number;
  readonly timeoutMs: number;
  readonly resolvers: string[];
}

/** Parses the arguments; throws an Error with a one-line message on bad input. */
export function parseCli(argv: string[]): CliOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: "boolean", default: false },
      markdown: { type: "string" },
      outputs: { type: "string" },
      cloud: { type: "string" },
      only: { type: "string" },
      "heartbeat-minutes": { type: "string", default: "15" },
      timeout: { type: "string", default: "20" },
      resolver: { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return "help";
  const positive = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: ${JSON.stringify(text)} is not allowed: a positive number`);
    return n;
  };
  if (values.cloud !== undefined && !["aws", "azure"].includes(values.cloud)) throw new Error(`--cloud: ${JSON.stringify(values.cloud)} is not allowed: aws or azure`);
  const only = values.only?.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = only?.filter((c) => !(COMPONENTS as readonly string[]).includes(c)) ?? [];
  if (unknown.length > 0) throw new Error(`--only: ${JSON.stringify(unknown.join(","))} is not allowed: ${COMPONENTS.join(", ")}`);
  return {
    json: values.json!,
    markdown: values.markdown,
    outputs: values.outputs,
    cloud: values.cloud,
    only,
    heartbeatMinutes: positive("heartbeat-minutes", values["heartbeat-minutes"]!),
    timeoutMs: positive("timeout", values.timeout!) * 1000,
    resolvers: values.resolver ? values.resolver.split(",").map((s) => s.trim()).filter(Boolean) : PUBLIC_RESOLVERS,
  };
}

/** A one-line spinner on a terminal's stderr; nothing when stderr is not a terminal. */
export function terminalProgress(stream: NodeJS.WriteStream): Progress | undefined {
  if (!stream.isTTY) return undefined;
  const frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
  let frame = 0;
  let label = "";
  let total = 0;
  let finished = 0;
  let timer: NodeJS.Timeout | undefined;
  const draw = () => stream.write(`\r\x1b[2K${frames[frame++ % frames.length]} ${label}: ${finished}/${total} checks`);
  return {
    begin(cluster, count) {
      label = cluster;
      total = count;
      finished = 0;
      timer ??= setInterval(draw, 100);
      draw();
    },
    done() {
      finished++;
    },
    end() {
      if (timer) clearInterval(timer);
      stream.write("\r\x1b[2K");
    },
  };
}

/** The real state readers: S3 with the default AWS credential chain, Azure Blob Storage with the default Azure credential, local files. */
function realStateReaders(timeoutMs: number): StateReaders {
  return {
    async s3({ bucket, key, region }) {
      const { S3Client, GetObjectCommand, NoSuchKey } = await import("@aws-sdk/client-s3");
      const client = new S3Client({ region, requestHandler: { requestTimeout: timeoutMs, connectionTimeout: Math.min(timeoutMs, 5000) } });
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return await answer.Body!.transformToString("utf8");
      } catch (error) {
        if (error instanceof NoSuchKey) return undefined;
        throw error;
      }
    },
    async azureBlob(location) {
      const { readAzureBlob } = await import("./clouds/azure");
      return readAzureBlob(location, timeoutMs);
    },
    async file(file) {
      try {
        return await readFile(file, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
    },
  };
}

/** The real clients: each cloud's SDK loaded only when a cluster of that cloud is examined. */
export function realClients(config: PlatformConfig, options: CliOptions): DoctorClients {
  const outputs: OutputsSource = options.outputs ? outputsFromFile(readFileSync(options.outputs, "utf8"), options.outputs) : outputsFromState(config, realStateReaders(options.timeoutMs), PROJECT_ROOT);
  return {
    outputs,
    async probe(target, clusterOutputs): Promise<CloudProbe> {
      if (target.cloud === "aws") {
        const aws = await import("./clouds/aws");
        return aws.awsProbe(target, clusterOutputs, await aws.awsClients(target.region!, options.timeoutMs), options.timeoutMs);
      }
      const azure = await import("./clouds/azure");
      return azure.azureProbe(target, clusterOutputs, await azure.azureRest(options.timeoutMs), options.timeoutMs);
    },
    kubernetes: (endpoint) => clusterReader(endpoint, options.timeoutMs),
    net: realNet(options.timeoutMs, options.resolvers),
  };
}

export async function main(argv: string[]): Promise<number> {
  let options: CliOptions;
  let config: PlatformConfig;
  try {
    const parsed = parseCli(argv);
    if (parsed === "help") {
      console.log(USAGE);
      return 0;
    }
    options = parsed;
    const resolved = resolveConfigPath();
    config = loadConfig(resolved.path);
    // stderr, so that --json keeps stdout to the JSON.
    console.error(`platform config: ${describeConfigPath(resolved)}`);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof ConfigPathError || error instanceof Error) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  const targets = clusterTargets(config).filter((t) => !options.cloud || t.cloud === options.cloud);
  const now = new Date();
  const reports = await runDoctor(targets, realClients(config, options), {
    now,
    heartbeatMinutes: options.heartbeatMinutes,
    checkTimeoutMs: options.timeoutMs * 4,
    projectRoot: PROJECT_ROOT,
    progress: options.json ? undefined : terminalProgress(process.stderr),
    components: options.only,
  });
  if (options.markdown) appendFileSync(options.markdown, `${renderMarkdown(reports)}\n`);
  if (options.json) console.log(renderJson(reports, now));
  else console.log(renderText(reports, { colour: process.stdout.isTTY === true, width: process.stdout.columns ? Math.max(40, Math.floor(process.stdout.columns / 3)) : 70 }));
  return exitCode(reports);
}
