import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
  ConfigPathError,
  EXAMPLE_CONFIG_PATH,
  PROJECT_ROOT,
  describeConfigPath,
  findPlaceholders,
  placeholderWarning,
  resolveConfigPath,
} from "../config";
import { EXAMPLE_NAMES } from "../config/placeholders";
import { defaultRawConfig } from "./support/synth";

const SYNTH = path.join(PROJECT_ROOT, "scripts/synth.cjs");

/** Runs the real entry point, as `npm run synth` does, from `cwd`. */
function runSynth(cwd: string, env: Record<string, string | undefined>) {
  const result = spawnSync(process.execPath, [SYNTH], { cwd, env: { ...process.env, INIT_CWD: cwd, ...env }, encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("which configuration a synth reads", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), "config-source-"));
    writeFileSync(path.join(root, "cdktf.json"), JSON.stringify({ app: "node scripts/synth.cjs", context: { platformConfig: "config/acme.yaml" } }));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("is the file cdktf.json names, relative to the project root, whatever the directory", () => {
    expect(resolveConfigPath({ INIT_CWD: "/somewhere/else" }, root)).toEqual({ path: path.join(root, "config/acme.yaml"), source: "cdktf.json" });
  });

  it("is PLATFORM_CONFIG when set, resolved from the directory the command was started in", () => {
    expect(resolveConfigPath({ PLATFORM_CONFIG: "mine.yaml", INIT_CWD: "/home/me/work" }, root)).toEqual({ path: "/home/me/work/mine.yaml", source: "PLATFORM_CONFIG" });
    expect(resolveConfigPath({ PLATFORM_CONFIG: "/etc/platform.yaml" }, root)).toEqual({ path: "/etc/platform.yaml", source: "PLATFORM_CONFIG" });
    expect(resolveConfigPath({ PLATFORM_CONFIG: "mine.yaml" }, root).path).toBe(path.join(process.cwd(), "mine.yaml"));
  });

  it("treats an empty PLATFORM_CONFIG as not set", () => {
    expect(resolveConfigPath({ PLATFORM_CONFIG: "" }, root).source).toBe("cdktf.json");
  });

  it("fails in one line when cdktf.json names no configuration", () => {
    const bare = mkdtempSync(path.join(tmpdir(), "config-source-bare-"));
    writeFileSync(path.join(bare, "cdktf.json"), JSON.stringify({ app: "node scripts/synth.cjs", context: {} }));
    try {
      expect(() => resolveConfigPath({}, bare)).toThrow(ConfigPathError);
      expect(() => resolveConfigPath({}, bare)).toThrow(/names no configuration: set "context": \{ "platformConfig": /);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it("is named in the project's cdktf.json, and the file exists", () => {
    const chosen = resolveConfigPath({}, PROJECT_ROOT);
    expect(chosen.source).toBe("cdktf.json");
    expect(existsSync(chosen.path)).toBe(true);
  });

  it("is shown as the user would type it", () => {
    expect(describeConfigPath({ path: path.join(root, "config/acme.yaml"), source: "cdktf.json" }, root)).toBe("config/acme.yaml (from cdktf.json)");
    expect(describeConfigPath({ path: "/etc/platform.yaml", source: "PLATFORM_CONFIG" }, root)).toBe("/etc/platform.yaml (from PLATFORM_CONFIG)");
  });
});

describe("placeholders of the example", () => {
  it("include every globally unique name the example holds, with the example's value", () => {
    const example = defaultRawConfig();
    for (const [field, { value }] of Object.entries(EXAMPLE_NAMES)) {
      expect({ field, value: field.split(".").reduce((node: any, key) => node?.[key], example) }).toEqual({ field, value });
    }
  });

  it("are each named with their field in the example", () => {
    expect(findPlaceholders(defaultRawConfig()).map((p) => p.path)).toEqual([
      "project",
      "gitops.url",
      "clouds.azure.registry.name",
      "clouds.azure.keyVault.name",
      "clouds.azure.logStorage.accountName",
      "applications[0].objectStorage.cors[0].origins[0]",
      "domain.base",
      "alerts.emails[0]",
      "ci.runnerIpRanges[0]",
      "clouds.aws.cluster.publicAccessCidrs[0]",
      "clouds.aws.cluster.adminPrincipalArns[0]",
      "clouds.aws.backup.notificationEmails[0]",
      "clouds.azure.cluster.authorizedIpRanges[0]",
      "clouds.azure.cluster.adminGroupObjectIds[0]",
      "clouds.azure.postgres.entraAdministrator.objectId",
      "clouds.azure.alertEmails[0]",
    ]);
  });

  it.each([
    ["an ARN in the example account", "arn:aws:iam::123456789012:role/x", "example AWS account 123456789012"],
    ["a bare example account id", "123456789012", "example AWS account 123456789012"],
    ["a network inside 192.0.2.0/24", "192.0.2.128/25", "documentation range 192.0.2.0/24"],
    ["an address inside 198.51.100.0/24", "198.51.100.7", "documentation range 198.51.100.0/24"],
    ["the whole 203.0.113.0/24", "203.0.113.0/24", "documentation range 203.0.113.0/24"],
    ["an all-zero object id", "00000000-0000-0000-0000-000000000000", "all-zero object id"],
    ["an example.com e-mail", "ops@example.com", "reserved for examples"],
    ["an example.com subdomain", "apps.example.com", "reserved for examples"],
  ])("flags %s", (_name, value, reason) => {
    const [found] = findPlaceholders({ some: { field: [value] } });
    expect(found).toEqual({ path: "some.field[0]", value, reason: expect.stringContaining(reason) });
  });

  it.each([
    ["a real account", "arn:aws:iam::210987654321:role/platform-admins"],
    ["a longer number holding the account's digits", "91234567890123"],
    ["a network holding a documentation range", "192.0.0.0/16"],
    ["a private network", "10.40.0.0/16"],
    ["an issued object id", "3f2504e0-4f89-41d3-9a0c-0305e82c3301"],
    ["a domain that only ends like the example", "notexample.com"],
  ])("leaves %s alone", (_name, value) => {
    expect(findPlaceholders({ field: value })).toEqual([]);
  });

  it("make one warning with a line per field, and none when there is no placeholder", () => {
    const warning = placeholderWarning(findPlaceholders(defaultRawConfig()))!;
    expect(warning.split("\n")).toHaveLength(17);
    expect(warning).toMatch(/^warning: 16 field\(s\) still hold placeholders of the example/);
    expect(warning).toContain('  - clouds.azure.keyVault.name: "acme-platform-kv" is the example\'s Key Vault name, which must be globally unique: choose your own');
    expect(warning).toContain('  - clouds.aws.cluster.adminPrincipalArns[0]: "arn:aws:iam::123456789012:role/platform-admins" names the example AWS account 123456789012');
    expect(placeholderWarning([])).toBeUndefined();
  });
});

/** The example with every placeholder replaced, on AWS only. */
function ownConfig(): unknown {
  const raw = defaultRawConfig();
  raw.project = "shop";
  raw.gitops.url = "https://github.com/shop/platform-deploy.git";
  raw.domain.base = "apps.acme.io";
  raw.applications[0].objectStorage.cors[0].origins = ["https://web.apps.acme.io"];
  raw.alerts.emails = ["platform@acme.io"];
  delete raw.clouds.azure;
  raw.clouds.aws.cluster.publicAccessCidrs = ["84.17.32.0/24"];
  raw.clouds.aws.cluster.adminPrincipalArns = ["arn:aws:iam::210987654321:role/platform-admins"];
  raw.clouds.aws.backup.notificationEmails = ["platform@acme.io"];
  raw.environments[0].imagePolicy = { semverRange: "^2.0.0" };
  raw.domain.issuer = "letsencrypt-production";
  raw.ci.runnerIpRanges = ["100.64.20.0/24"];
  return raw;
}

describe("npm run synth, through the real entry point", () => {
  let workdir: string;
  beforeAll(() => {
    workdir = mkdtempSync(path.join(tmpdir(), "synth-entry-"));
  });
  afterAll(() => rmSync(workdir, { recursive: true, force: true }));

  it.each([
    ["a missing file", "missing.yaml", "no such file"],
    ["a directory", ".", "it is a directory, not a YAML file"],
  ])("with %s as the config: one line naming the path, exit 1, nothing written", (_name, file, reason) => {
    const result = runSynth(workdir, { PLATFORM_CONFIG: file });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([`cannot read platform config ${path.resolve(workdir, file)}: ${reason}`]);
    expect(existsSync(path.join(workdir, "cdktf.out"))).toBe(false);
  });

  // Root reads every file, so the case only exists for other users.
  it.skipIf(process.getuid?.() === 0)("with an unreadable file: one line naming the path, exit 1", () => {
    const file = path.join(workdir, "secret.yaml");
    writeFileSync(file, "project: acme\n");
    chmodSync(file, 0o000);
    try {
      const result = runSynth(workdir, { PLATFORM_CONFIG: "secret.yaml" });
      expect(result.status).toBe(1);
      expect(result.stderr.trim().split("\n")).toEqual([`cannot read platform config ${file}: permission denied`]);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it("names the config in one line, warns about placeholders, and leaves only the manifest's stacks", () => {
    // Stacks of an earlier config: the example has Azure, the team's own config does not.
    mkdirSync(path.join(workdir, "cdktf.out/stacks/aws-retired"), { recursive: true });
    // Under the cdktf CLI, which removes orphaned folders itself and fails when one is already gone.
    const example = runSynth(workdir, { PLATFORM_CONFIG: EXAMPLE_CONFIG_PATH, CDKTF_CONTEXT_JSON: "{}" });
    expect(example.status).toBe(0);
    expect(readdirSync(path.join(workdir, "cdktf.out/stacks"))).toContain("aws-retired");
    expect(example.stdout.split("\n").filter((line) => line.startsWith("platform config: "))).toEqual([
      `platform config: ${EXAMPLE_CONFIG_PATH} (from PLATFORM_CONFIG)`,
    ]);
    // The config's sixteen, and the mail relay's three in helm-values/.
    expect(example.stdout).toContain("warning: 19 field(s) still hold placeholders of the example");
    expect(example.stdout).toContain("warning: domain.issuer is letsencrypt-staging");
    expect(readdirSync(path.join(workdir, "cdktf.out/stacks"))).toContain("azure-platform");

    const subdir = path.join(workdir, "team");
    mkdirSync(subdir, { recursive: true });
    writeFileSync(path.join(subdir, "acme.yaml"), stringify(ownConfig()));
    const own = runSynth(workdir, { PLATFORM_CONFIG: "team/acme.yaml" });
    expect(own.status).toBe(0);
    expect(own.stdout.split("\n").filter((line) => line.includes("acme.yaml"))).toEqual(["platform config: team/acme.yaml (from PLATFORM_CONFIG)"]);
    // Only the mail relay, which the repository's helm-values/ still leave at the example's.
    expect(own.stdout.split("\n").filter((line) => line.startsWith("  - helm-values/")).map((line) => line.split(":")[0])).toEqual([
      "  - helm-values/kube-prometheus-stack.yaml",
      "  - helm-values/kube-prometheus-stack.yaml",
      "  - helm-values/kube-prometheus-stack.yaml",
    ]);
    // The one setting that has no effect is named in the last lines.
    expect(own.stdout.trim().split("\n").slice(-2)).toEqual([
      "warning: 1 setting(s) may not do what they say; synth went on:",
      '  - environments[0].imagePolicy.semverRange: "^2.0.0" has no effect: develop deploys the newest image by build time; only production follows a semver range',
    ]);
    const manifest = JSON.parse(readFileSync(path.join(workdir, "cdktf.out/manifest.json"), "utf8"));
    expect(readdirSync(path.join(workdir, "cdktf.out/stacks")).sort()).toEqual(Object.keys(manifest.stacks).sort());
    expect(Object.keys(manifest.stacks).every((id) => id.startsWith("aws-"))).toBe(true);
  });

  it("with a bad config keeps the earlier output untouched", () => {
    const stacksDir = path.join(workdir, "cdktf.out/stacks");
    mkdirSync(path.join(stacksDir, "aws-stale"), { recursive: true });
    const before = readdirSync(stacksDir).sort();
    const raw = ownConfig() as any;
    raw.clouds.aws.availabilityZones = ["eu-west-1a"];
    writeFileSync(path.join(workdir, "bad.yaml"), stringify(raw));
    const result = runSynth(workdir, { PLATFORM_CONFIG: "bad.yaml" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("at least 2 availability zones");
    expect(readdirSync(stacksDir).sort()).toEqual(before);
  });
});
