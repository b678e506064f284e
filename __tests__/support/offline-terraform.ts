import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Availability } from "./environment";
import type { TerraformJson } from "./synth";

/**
 * Runs the real Terraform CLI and real providers against synthesized stacks,
 * with no network and no credentials: providers come from a filesystem mirror
 * named by `TF_PROVIDER_MIRROR`, and a generated `*_override.tf.json` adds
 * fake credentials, the provider's `skip_*` flags, a throw-away backend and
 * placeholder outputs for `terraform_remote_state`. Nothing here is part of
 * the program: the synthesized stacks stay exactly as `cdktf deploy` uses them.
 */

export interface OfflineTerraform extends Availability {
  readonly terraform?: string;
  readonly mirror?: string;
}

export function offlineTerraform(): OfflineTerraform {
  const mirror = process.env.TF_PROVIDER_MIRROR;
  if (!mirror) return { available: false, reason: "TF_PROVIDER_MIRROR is not set (a Terraform provider filesystem mirror)" };
  if (!existsSync(mirror)) return { available: false, reason: `TF_PROVIDER_MIRROR=${mirror} does not exist` };
  const terraform = process.env.TERRAFORM_BIN ?? "terraform";
  const probe = spawnSync(terraform, ["version"], { encoding: "utf8" });
  if (probe.status !== 0) return { available: false, reason: `'${terraform} version' failed: Terraform is not installed` };
  return { available: true, reason: "", terraform, mirror };
}

/** `hashicorp/aws` for every provider a stack requires. */
export function requiredProviders(stack: TerraformJson): { source: string; version: string }[] {
  const required = stack.terraform?.required_providers ?? {};
  return Object.values(required).map((p: any) => {
    const source: string = p.source.includes("/") ? p.source : `hashicorp/${p.source}`;
    return { source, version: p.version };
  });
}

/** Whether every provider of a stack is in the mirror at the exact version it pins. */
export function mirrorHasProviders(mirror: string, stack: TerraformJson): boolean {
  return requiredProviders(stack).every(({ source, version }) =>
    existsSync(path.join(mirror, "registry.terraform.io", source, version)),
  );
}

const EMPTY_STATE = { version: 4, terraform_version: "1.11.0", serial: 1, lineage: "offline-placeholder", outputs: {}, resources: [] };

/** Placeholder values shaped like what the producing stack will output. */
function placeholderFor(output: string): string {
  const lower = output.toLowerCase();
  if (lower.endsWith("arn")) return "arn:aws:iam::000000000000:role/offline-placeholder";
  if (lower.endsWith("issuer")) return "https://oidc.eks.eu-west-1.amazonaws.com/id/OFFLINEPLACEHOLDER";
  if (lower.endsWith("cidr_block")) return "10.0.0.0/24";
  return `offline-placeholder-${output.slice(-12).replace(/[^A-Za-z0-9]/g, "")}`;
}

/** `data.terraform_remote_state.<name>.outputs.<key>` references, grouped by data source. */
export function remoteStateReferences(stackText: string): Map<string, Set<string>> {
  const references = new Map<string, Set<string>>();
  for (const match of stackText.matchAll(/data\.terraform_remote_state\.([\w-]+)\.outputs\.([\w-]+)/g)) {
    const [, name, output] = match;
    if (!references.has(name)) references.set(name, new Set());
    references.get(name)!.add(output);
  }
  return references;
}

function overrideFor(stack: TerraformJson, stackText: string, workdir: string): Record<string, unknown> {
  const emptyState = path.join(workdir, "empty-remote.tfstate");
  writeFileSync(emptyState, JSON.stringify(EMPTY_STATE));
  const remoteStates = Object.fromEntries(
    [...remoteStateReferences(stackText)].map(([name, outputs]) => [
      name,
      {
        config: { path: emptyState },
        defaults: Object.fromEntries([...outputs].map((output) => [output, placeholderFor(output)])),
      },
    ]),
  );
  const providers: Record<string, unknown[]> = {};
  if (stack.provider?.aws) {
    // One override per provider configuration, aliases included.
    providers.aws = (stack.provider.aws as { alias?: string }[]).map((configuration) => ({
      ...(configuration.alias ? { alias: configuration.alias } : {}),
      access_key: "offline-access-key",
      secret_key: "offline-secret-key",
      skip_credentials_validation: true,
      skip_requesting_account_id: true,
      skip_metadata_api_check: true,
      skip_region_validation: true,
    }));
  }
  return {
    terraform: { backend: { local: { path: path.join(workdir, "offline.tfstate") } } },
    ...(Object.keys(providers).length > 0 ? { provider: providers } : {}),
    ...(Object.keys(remoteStates).length > 0 ? { data: { terraform_remote_state: remoteStates } } : {}),
  };
}

export interface OfflinePlanResult {
  readonly workdir: string;
  readonly validate: { valid: boolean; error_count: number; diagnostics: unknown[] };
  /** `terraform show -json` of the saved plan. */
  readonly plan: any;
  /** Seconds spent in init, validate and plan. */
  readonly seconds: number;
}

export class TerraformFailure extends Error {}

/** The caller's environment minus any cloud credentials, plus the mirror-only CLI config. */
function offlineEnvironment(cliConfig: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TF_CLI_CONFIG_FILE: cliConfig, TF_IN_AUTOMATION: "1", TF_INPUT: "0", CHECKPOINT_DISABLE: "1" };
  for (const key of Object.keys(env)) {
    if (/^(AWS_|ARM_|AZURE_|TF_VAR_)/.test(key)) delete env[key];
  }
  return env;
}

const execFileAsync = promisify(execFile);

/** Terraform's plugin cache for the offline plans, kept between runs beside the project's other caches. */
function pluginCacheDir(): string {
  const dir = path.resolve(__dirname, "..", "..", "node_modules", ".cache", "platform-kit", "terraform-plugins");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A CLI config that installs providers from the mirror only, through the shared plugin cache. */
function writeCliConfig(env: OfflineTerraform, workdir: string): string {
  const cliConfig = path.join(workdir, "offline.tfrc");
  writeFileSync(
    cliConfig,
    [
      // Init links the provider (700 MB for AWS) from this cache instead of copying it into every stack.
      `plugin_cache_dir = ${JSON.stringify(pluginCacheDir())}`,
      "plugin_cache_may_break_dependency_lock_file = true",
      `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(env.mirror)}\n  }\n}\n`,
    ].join("\n"),
  );
  return cliConfig;
}

/**
 * Puts the providers of these stacks into the plugin cache with one `init`,
 * before plans run side by side: concurrent inits would each fill the cache.
 */
export async function cacheProviders(env: OfflineTerraform, stacks: TerraformJson[]): Promise<void> {
  if (!env.available || !env.terraform || !env.mirror) throw new Error(`offline Terraform is not available: ${env.reason}`);
  const providers = new Map(stacks.flatMap((stack) => Object.entries(stack.terraform?.required_providers ?? {})));
  if (providers.size === 0) return;
  const workdir = mkdtempSync(path.join(tmpdir(), "offline-providers-"));
  try {
    writeFileSync(path.join(workdir, "main.tf.json"), JSON.stringify({ terraform: { required_providers: Object.fromEntries(providers) } }));
    await execFileAsync(env.terraform, ["init", "-input=false", "-no-color", "-backend=false"], { cwd: workdir, env: offlineEnvironment(writeCliConfig(env, workdir)) });
  } finally {
    rmSync(workdir, { recursive: true, force: true });
  }
}

/**
 * Copies one synthesized stack (with its assets) to a temporary directory and
 * runs `init`, `validate` and `plan -refresh=false` there. Asynchronous, so
 * that plans can run side by side and a test worker stays responsive.
 */
export async function planOffline(env: OfflineTerraform, stackDir: string): Promise<OfflinePlanResult> {
  if (!env.available || !env.terraform || !env.mirror) throw new Error(`offline Terraform is not available: ${env.reason}`);
  const started = Date.now();
  const workdir = mkdtempSync(path.join(tmpdir(), `offline-plan-${path.basename(stackDir)}-`));
  cpSync(stackDir, workdir, { recursive: true });
  const stackText = readFileSync(path.join(workdir, "cdk.tf.json"), "utf8");
  const stack = JSON.parse(stackText) as TerraformJson;
  writeFileSync(path.join(workdir, "offline_override.tf.json"), JSON.stringify(overrideFor(stack, stackText, workdir), null, 2));
  const cliConfig = writeCliConfig(env, workdir);
  const run = async (args: string[]): Promise<string> => {
    try {
      const { stdout } = await execFileAsync(env.terraform!, args, {
        cwd: workdir,
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
        env: offlineEnvironment(cliConfig),
      });
      return stdout;
    } catch (error) {
      const failure = error as { stdout?: string; stderr?: string };
      throw new TerraformFailure(`terraform ${args[0]} failed in ${workdir}:\n${failure.stderr ?? ""}\n${failure.stdout ?? ""}`);
    }
  };
  await run(["init", "-input=false", "-no-color"]);
  const validate = JSON.parse(await run(["validate", "-json", "-no-color"]));
  await run(["plan", "-refresh=false", "-input=false", "-lock=false", "-no-color", "-out=offline.plan"]);
  const plan = JSON.parse(await run(["show", "-json", "offline.plan"]));
  return { workdir, validate, plan, seconds: (Date.now() - started) / 1000 };
}

/** Resource types and actions of a plan: `{ "aws_vpc": { create: 1 } }`. */
export function plannedTypes(plan: any): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const change of plan.resource_changes ?? []) {
    if (change.mode !== "managed") continue;
    counts[change.type] = (counts[change.type] ?? 0) + 1;
  }
  return counts;
}
