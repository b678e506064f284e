import { execFile, spawnSync } from "node:child_process";
import { isDeepStrictEqual, promisify } from "node:util";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { withPooledProvider } from "./provider-pool";
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
        // Whatever backend the program reads it from (S3 with a state backend configured).
        backend: "local",
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
  /** Validation's and planning's diagnostics. */
  readonly diagnostics: PlanDiagnostics;
  /** `terraform show -json` of the saved plan. */
  readonly plan: any;
  /** Seconds spent in init, plan and show. */
  readonly seconds: number;
}

export class TerraformFailure extends Error {}

/** The caller's environment minus any cloud credentials, plus the mirror-only CLI config. */
export function offlineEnvironment(cliConfig: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TF_CLI_CONFIG_FILE: cliConfig,
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
    CHECKPOINT_DISABLE: "1",
    // Terraform and the provider it starts collect garbage less often: a fifth less CPU
    // per command, for about 100 MB more memory each.
    GOGC: process.env.GOGC ?? "400",
  };
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

/** What `terraform plan -json` reported besides the plan: its diagnostics, validation's among them. */
export interface PlanDiagnostics {
  readonly error_count: number;
  readonly warning_count: number;
  readonly diagnostics: { severity: string; summary: string; detail?: string }[];
}

/** The messages of a machine-readable Terraform log (`-json`) of one type, one JSON message per line. */
function logMessages(log: string, type: string): any[] {
  return log
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line))
    .filter((message) => message.type === type);
}

/** The diagnostics of `terraform plan -json`'s log. */
export function planDiagnostics(log: string): PlanDiagnostics {
  const diagnostics = logMessages(log, "diagnostic").map((message) => message.diagnostic);
  const count = (severity: string) => diagnostics.filter((d) => d.severity === severity).length;
  return { error_count: count("error"), warning_count: count("warning"), diagnostics };
}

/**
 * Copies one synthesized stack (with its assets) to a temporary directory and
 * runs `init` and `plan -refresh=false` there; plan validates the
 * configuration first, and its diagnostics are kept. Asynchronous, so that
 * plans can run side by side and a test worker stays responsive. A failed
 * step throws with Terraform's output and leaves no directory behind.
 */
export async function planOffline(env: OfflineTerraform, stackDir: string): Promise<OfflinePlanResult> {
  if (!env.available || !env.terraform || !env.mirror) throw new Error(`offline Terraform is not available: ${env.reason}`);
  const started = Date.now();
  const workdir = mkdtempSync(path.join(tmpdir(), `offline-plan-${path.basename(stackDir)}-`));
  try {
    cpSync(stackDir, workdir, { recursive: true });
    const stackText = readFileSync(path.join(workdir, "cdk.tf.json"), "utf8");
    const stack = JSON.parse(stackText) as TerraformJson;
    writeFileSync(path.join(workdir, "offline_override.tf.json"), JSON.stringify(overrideFor(stack, stackText, workdir), null, 2));
    writeCliConfig(env, workdir);
    await runIn(env, workdir, ["init", "-input=false", "-no-color"]);
    const diagnostics = planDiagnostics(await runIn(env, workdir, ["plan", "-json", "-refresh=false", "-input=false", "-lock=false", "-no-color", "-out=offline.plan"]));
    const plan = JSON.parse(await runIn(env, workdir, ["show", "-json", "offline.plan"]));
    return { workdir, diagnostics, plan, seconds: (Date.now() - started) / 1000 };
  } catch (error) {
    rmSync(workdir, { recursive: true, force: true });
    throw error;
  }
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

/**
 * Day-2 plans: a prior state representing the stack as first planned, with
 * routine drift applied, planned against with `-refresh=false` beside a
 * workdir the global setup already initialised, sharing its `.terraform` (no
 * second `init`) and leaving its plan untouched.
 */

/** One attribute type as `terraform providers schema -json` writes it. */
type SchemaType = string | [string, ...unknown[]];

interface SchemaBlock {
  attributes?: Record<string, { type?: SchemaType; computed?: boolean; optional?: boolean }>;
  block_types?: Record<string, { nesting_mode: string; block: SchemaBlock }>;
}

export interface ResourceSchemas {
  readonly [type: string]: { readonly version: number; readonly block: SchemaBlock };
}

/** Terraform's CLI in a workdir prepared by `planOffline`. */
async function runIn(env: OfflineTerraform, workdir: string, args: string[]): Promise<string> {
  try {
    // `init` starts no provider; the commands that do use a running one when they can.
    const run = (commandEnv: NodeJS.ProcessEnv) => execFileAsync(env.terraform!, args, { cwd: workdir, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, env: commandEnv });
    const commandEnv = offlineEnvironment(path.join(workdir, "offline.tfrc"));
    const { stdout } = args[0] === "init" ? await run(commandEnv) : await withPooledProvider(workdir, commandEnv, run);
    return stdout;
  } catch (error) {
    const failure = error as { message?: string; stdout?: string; stderr?: string };
    // With -json the errors are diagnostics in the log: those first, however long the log.
    const errors = args.includes("-json") ? planDiagnostics(failure.stdout ?? "").diagnostics.filter((d) => d.severity === "error") : [];
    const explained = errors.map((d) => `Error: ${d.summary}\n${d.detail ?? ""}`).join("\n");
    throw new TerraformFailure(`terraform ${args.join(" ")} failed in ${workdir}: ${failure.message ?? ""}\n${explained}\n${failure.stderr ?? ""}\n${(failure.stdout ?? "").slice(0, 4000)}`);
  }
}

const schemasByLockFile = new Map<string, Promise<ResourceSchemas>>();

/**
 * The managed resource schemas of every provider of an initialised workdir;
 * read once for workdirs that lock the same providers (the AWS schema alone
 * is tens of megabytes).
 */
export function resourceSchemas(env: OfflineTerraform, workdir: string): Promise<ResourceSchemas> {
  const lockFile = readFileSync(path.join(workdir, ".terraform.lock.hcl"), "utf8");
  let schemas = schemasByLockFile.get(lockFile);
  if (!schemas) {
    schemas = runIn(env, workdir, ["providers", "schema", "-json"]).then((text) => {
      const parsed = JSON.parse(text);
      return Object.assign({}, ...Object.values(parsed.provider_schemas ?? {}).map((p: any) => p.resource_schemas ?? {}));
    });
    schemasByLockFile.set(lockFile, schemas);
  }
  return schemas;
}

/**
 * A stand-in for a value known only after apply: identifiers other resources
 * refer to get a value of their shape, anything else stays null (a made-up
 * value there can break the provider's own checks, such as a FIFO setting on
 * a standard topic), except collections, which are empty.
 */
function placeholder(schema: { type?: SchemaType; optional?: boolean }, address: string, attribute: string): unknown {
  const kind = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  // An empty collection, not null: null against a configured-but-unknown set forces replacements.
  if (kind === "list" || kind === "set") {
    // A computed list of objects (`master_user_secret`) is read by index: one element.
    const element = Array.isArray(schema.type) ? (schema.type[1] as SchemaType) : undefined;
    if (!schema.optional && Array.isArray(element) && element[0] === "object") {
      const fields = element[1] as Record<string, SchemaType>;
      // Every string inside gets a stand-in: other resources read them (`identity[0].oidc[0].issuer`).
      return [Object.fromEntries(Object.entries(fields).map(([field, type]) => [field, placeholder({ type, optional: false }, address, `${attribute}_${field}`)]))];
    }
    return [];
  }
  if (kind === "map") return {};
  if (kind !== "string") return null;
  if (attribute === "arn" || attribute.endsWith("_arn")) return `arn:aws:offline:eu-west-1:000000000000:${address}/${attribute}`;
  // URLs other resources validate as such (the OIDC provider reads the cluster's issuer).
  if (attribute.endsWith("issuer") || attribute.endsWith("url")) return `https://offline.invalid/${address}/${attribute}`.replace(/[^A-Za-z0-9:._/-]/g, "-");
  if (attribute === "id" || attribute.endsWith("_id") || !schema.optional) return `offline-${address}-${attribute}`.replace(/[^A-Za-z0-9._/-]/g, "-");
  return null;
}

/** Fills what the plan left unknown, so the state reads as if applied. */
function fillUnknown(value: any, unknown: any, block: SchemaBlock | undefined, address: string): any {
  if (unknown === true) return undefined;
  const result = value === null || value === undefined ? {} : { ...value };
  for (const [name, attribute] of Object.entries(block?.attributes ?? {})) {
    if (unknown?.[name] === true) result[name] = placeholder(attribute, address, name);
    else if (!(name in result)) result[name] = null;
  }
  for (const [name, nested] of Object.entries(block?.block_types ?? {})) {
    const items = result[name];
    if (Array.isArray(items)) result[name] = items.map((item, i) => fillUnknown(item, unknown?.[name]?.[i], nested.block, address));
    else if (items && typeof items === "object") result[name] = fillUnknown(items, unknown?.[name], nested.block, address);
    else if (unknown?.[name] === true || items === undefined) result[name] = nested.nesting_mode === "single" ? null : [];
  }
  return result;
}

/** `${aws_kms_key.backup.arn}`: a configuration value that is exactly one attribute of one managed resource. */
const DIRECT_REFERENCE = /^\$\{([a-z][a-z0-9_]*\.[A-Za-z0-9_-]+)((?:\.[A-Za-z0-9_-]+|\[\d+\])+)\}$/;

/** One interpolation the stand-ins can resolve: a direct reference, or one field of an ARN-like value (`element(split(":", x.arn), 4)`). */
const INTERPOLATION = /\$\{(?:element\(split\("(.)", ([a-z][a-z0-9_]*\.[A-Za-z0-9_-]+)((?:\.[A-Za-z0-9_-]+|\[\d+\])+)\), (\d+)\)|([a-z][a-z0-9_]*\.[A-Za-z0-9_-]+)((?:\.[A-Za-z0-9_-]+|\[\d+\])+))\}/g;

/**
 * A string template whose every interpolation is one of those above, with the
 * referenced stand-ins in place (`acme-logs-${element(split(":", role.arn), 4)}-eu-west-1`),
 * or undefined when any part is out of reach.
 */
function resolveTemplate(template: string, lookup: (reference: string, attributePath: string) => unknown): string | undefined {
  let unresolved = false;
  const resolved = template.replace(INTERPOLATION, (_, separator, splitReference, splitPath, index, reference, attributePath) => {
    const value = splitReference ? lookup(splitReference, splitPath) : lookup(reference, attributePath);
    if (typeof value !== "string") {
      unresolved = true;
      return "";
    }
    return splitReference ? (value.split(separator)[Number(index)] ?? "") : value;
  });
  return unresolved || resolved.includes("${") ? undefined : resolved;
}

/** The value at a reference's attribute path (`.identity[0].oidc[0].issuer`), or undefined. */
function valueAt(attributes: any, attributePath: string): unknown {
  let value = attributes;
  for (const [, name, index] of attributePath.matchAll(/\.([A-Za-z0-9_-]+)|\[(\d+)\]/g)) {
    if (value === null || value === undefined) return undefined;
    value = name !== undefined ? value[name] : value[Number(index)];
  }
  return value;
}

/**
 * Where the configuration passes one resource's attribute straight to
 * another (`kms_key_arn = aws_kms_key.backup.arn`, a list of subnet ids) and
 * the plan left the value unknown, the stand-in of the referenced attribute
 * instead of one of its own: the state then agrees with the configuration on
 * the first plan. Returns how many values it set.
 */
function seedReferences(attributes: any, unknown: any, configured: any, lookup: (reference: string, attributePath: string) => unknown): number {
  let seeded = 0;
  if (!configured || typeof configured !== "object" || !attributes || typeof attributes !== "object") return 0;
  for (const [name, value] of Object.entries(configured)) {
    const isUnknown = unknown === true || unknown?.[name] === true;
    if (typeof value === "string") {
      const match = isUnknown ? DIRECT_REFERENCE.exec(value) : null;
      const resolved = match ? lookup(match[1], match[2]) : isUnknown ? resolveTemplate(value, lookup) : undefined;
      if (resolved !== undefined && !isDeepStrictEqual(attributes[name], resolved)) {
        attributes[name] = structuredClone(resolved);
        seeded++;
      }
    } else if (Array.isArray(value) && value.every((item) => typeof item === "string") && isUnknown) {
      const resolved = value.map((item) => {
        const match = DIRECT_REFERENCE.exec(item);
        return match ? lookup(match[1], match[2]) : item.includes("${") ? undefined : item;
      });
      if (resolved.every((item) => typeof item === "string") && !isDeepStrictEqual(attributes[name], resolved)) {
        attributes[name] = resolved;
        seeded++;
      }
    } else if (Array.isArray(value)) {
      // A nested block written as a list of objects: its items line up with the state's.
      const items = attributes[name];
      if (Array.isArray(items)) value.forEach((item, i) => (seeded += seedReferences(items[i], unknown?.[name]?.[i], item, lookup)));
    } else if (value && typeof value === "object") {
      const items = attributes[name];
      // A block the provider keeps as a one-element list is written as an object.
      const target = Array.isArray(items) ? items[0] : items;
      const unknownTarget = Array.isArray(unknown?.[name]) ? unknown[name][0] : unknown?.[name];
      seeded += seedReferences(target, unknownTarget, value, lookup);
    }
  }
  return seeded;
}

/**
 * A version 4 state holding every managed resource of a create-only plan as
 * planned, values known only after apply filled with stand-ins; the stand-ins
 * of values the configuration passes on unchanged are shared with the
 * attribute they come from (given the stack's configuration).
 */
export function stateFromPlan(plan: any, schemas: ResourceSchemas, stack?: TerraformJson): { version: 4; resources: any[]; [key: string]: unknown } {
  const resources = new Map<string, any>();
  const byAddress = new Map<string, { attributes: any; unknown: any; configured: any }>();
  for (const change of plan.resource_changes ?? []) {
    if (change.mode !== "managed" || !change.change.actions.includes("create")) continue;
    const schema = schemas[change.type];
    const key = `${change.module_address ?? ""}|${change.type}|${change.name}`;
    const entry = resources.get(key) ?? {
      ...(change.module_address ? { module: change.module_address } : {}),
      mode: "managed",
      type: change.type,
      name: change.name,
      provider: `provider["${change.provider_name}"]`,
      instances: [],
    };
    const attributes = fillUnknown(change.change.after, change.change.after_unknown, schema?.block, change.address);
    entry.instances.push({
      ...(change.index !== undefined ? { index_key: change.index } : {}),
      schema_version: schema?.version ?? 0,
      attributes,
      sensitive_attributes: [],
    });
    resources.set(key, entry);
    if (!change.module_address && change.index === undefined) {
      byAddress.set(change.address, { attributes, unknown: change.change.after_unknown, configured: stack?.resource?.[change.type]?.[change.name] });
    }
  }
  const lookup = (reference: string, attributePath: string) => {
    const target = byAddress.get(reference);
    return target ? valueAt(target.attributes, attributePath) : undefined;
  };
  // References can chain (a role's ARN into a policy's role into ...): until nothing moves.
  for (let pass = 0; pass < 10; pass++) {
    let seeded = 0;
    for (const { attributes, unknown, configured } of byAddress.values()) seeded += seedReferences(attributes, unknown, configured, lookup);
    if (seeded === 0) break;
  }
  return { version: 4, terraform_version: "1.11.0", serial: 1, lineage: "offline-drift", outputs: {}, resources: [...resources.values()], check_results: null };
}

/** Every instance's attributes in a state, with its resource type, for drift to change. */
export function stateInstances(state: { resources: any[] }): { type: string; address: string; attributes: any }[] {
  return state.resources.flatMap((r) =>
    r.instances.map((i: any) => ({
      type: r.type,
      address: `${r.module ? `${r.module}.` : ""}${r.type}.${r.name}${i.index_key === undefined ? "" : `[${JSON.stringify(i.index_key)}]`}`,
      attributes: i.attributes,
    })),
  );
}

/** `after`, with what it leaves unknown taken from `before`. */
function knownAfter(before: any, after: any, unknown: any): any {
  if (unknown === true) return before;
  if (Array.isArray(after)) return after.map((item, i) => knownAfter(Array.isArray(before) ? before[i] : undefined, item, unknown?.[i]));
  if (after && typeof after === "object") {
    return Object.fromEntries(Object.entries({ ...(before ?? {}), ...after }).map(([k]) => [k, k in after ? knownAfter(before?.[k], after[k], unknown?.[k]) : before?.[k]]));
  }
  return after === undefined ? before : after;
}

/** The stack's config with `prevent_destroy` off, so a baseline plan shows what it would replace instead of stopping. */
function withoutPreventDestroy(stackText: string): string {
  const stack = JSON.parse(stackText);
  for (const resources of Object.values<any>(stack.resource ?? {})) {
    for (const resource of Object.values<any>(resources)) if (resource.lifecycle) delete resource.lifecycle.prevent_destroy;
  }
  return JSON.stringify(stack);
}

/** One resource's planned action as `terraform plan -json` streams it: `create`, `update`, `replace`, `delete`, ... */
export interface PlannedChange {
  readonly address: string;
  readonly action: string;
}

/** The `planned_change` messages of `terraform plan -json`'s log. */
export function plannedChanges(log: string): PlannedChange[] {
  return logMessages(log, "planned_change").map((message) => ({ address: message.change.resource.addr, action: message.change.action }));
}

/**
 * Plans routine drift on a state built by `stateFromPlan`, and returns the
 * planned actions of a plan that deletes nothing if there is one; with a
 * deletion, also `terraform show -json` of that plan. The stand-ins for values
 * computed from other resources (a bucket name made of an account id) can
 * differ from what the configuration computes and force a replacement drift
 * has nothing to do with: then the round takes what the provider planned
 * (known values only) into the undrifted state, and the next round drifts and
 * plans again. A replacement the drift causes stays in every round: the drift
 * is applied afresh each time, and what the provider plans for a drifted
 * value is the configuration's, which the undrifted state already holds. Runs
 * in a sibling directory sharing the workdir's `.terraform`, with
 * `prevent_destroy` off, so that a replacement shows as one instead of
 * stopping the plan.
 */
export async function planRoutineDrift(
  env: OfflineTerraform,
  workdir: string,
  state: any,
  drift: (state: any) => string[],
  rounds = 4,
): Promise<{ changes: PlannedChange[]; plan: any | null; drifted: string[] }> {
  const sibling = mkdtempSync(path.join(tmpdir(), `${path.basename(workdir)}-drift-`));
  symlinkSync(path.join(workdir, ".terraform"), path.join(sibling, ".terraform"));
  for (const file of [".terraform.lock.hcl", "offline.tfrc", "offline_override.tf.json"]) cpSync(path.join(workdir, file), path.join(sibling, file));
  // The stack's assets (a Lambda package, a chart), which its configuration reads by relative path.
  if (existsSync(path.join(workdir, "assets"))) symlinkSync(path.join(workdir, "assets"), path.join(sibling, "assets"));
  writeFileSync(path.join(sibling, "cdk.tf.json"), withoutPreventDestroy(readFileSync(path.join(workdir, "cdk.tf.json"), "utf8")));
  const base = structuredClone(state);
  const instances = new Map(stateInstances(base).map((i) => [i.address, i]));
  try {
    for (let round = 1; ; round++) {
      const drifted = structuredClone(base);
      const changed = drift(drifted);
      const stateFile = path.join(sibling, `drift-${round}.tfstate`);
      writeFileSync(stateFile, JSON.stringify(drifted));
      const planFile = `drift-${round}.plan`;
      const log = await runIn(env, sibling, ["plan", "-json", "-refresh=false", "-input=false", "-lock=false", "-no-color", `-state=${stateFile}`, `-out=${planFile}`]);
      const changes = plannedChanges(log);
      // The streamed actions say whether anything goes; the values, read only then, say why.
      if (!changes.some((change) => change.action === "delete" || change.action === "replace")) return { changes, plan: null, drifted: changed };
      const plan = JSON.parse(await runIn(env, sibling, ["show", "-json", planFile]));
      let merged = 0;
      for (const change of round < rounds ? (plan.resource_changes ?? []) : []) {
        const instance = instances.get(change.address);
        if (!instance || change.change.actions.join() === "no-op") continue;
        // Unknown values keep the undrifted state's, not the plan's `before`, which holds the drift.
        const known = knownAfter(instance.attributes, change.change.after, change.change.after_unknown);
        if (!isDeepStrictEqual(known, instance.attributes)) {
          Object.assign(instance.attributes, known);
          merged++;
        }
      }
      if (merged === 0) return { changes, plan, drifted: changed };
    }
  } finally {
    rmSync(sibling, { recursive: true, force: true });
  }
}

/**
 * Routine drift on a state, as a real account shows it after a while:
 * storage autoscaling grew every database, an autoscaler moved every node
 * group's desired size, someone tagged every taggable resource by hand.
 */
export function applyRoutineDrift(state: { resources: any[] }): string[] {
  const drifted: string[] = [];
  for (const { type, address, attributes } of stateInstances(state)) {
    if (type === "aws_db_instance" && typeof attributes.allocated_storage === "number") {
      attributes.allocated_storage = Math.max(attributes.allocated_storage + 10, Math.min(attributes.max_allocated_storage ?? 0, attributes.allocated_storage * 2));
      drifted.push(`${address}.allocated_storage`);
    }
    if (type === "aws_eks_node_group" && attributes.scaling_config?.[0]) {
      const scaling = attributes.scaling_config[0];
      scaling.desired_size = Math.min(scaling.max_size, scaling.desired_size + 1);
      drifted.push(`${address}.scaling_config[0].desired_size`);
    }
    if (attributes.tags_all && typeof attributes.tags_all === "object") {
      attributes.tags = { ...(attributes.tags ?? {}), "added-by-hand": "yes" };
      attributes.tags_all = { ...attributes.tags_all, "added-by-hand": "yes" };
      drifted.push(`${address}.tags`);
    }
  }
  return drifted;
}
