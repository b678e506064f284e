import { readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { describe, expect, it } from "vitest";
import { EXAMPLE_CONFIG_PATH, PROJECT_ROOT } from "../config";
import { configJsonSchema, REFERENCE_FILE, renderJsonSchema, renderReference, SCHEMA_FILE, undescribedFields, withReference } from "../tools/config-reference";
import { configWith, defaultRawConfig } from "./support/synth";

const read = (file: string) => readFileSync(path.join(PROJECT_ROOT, file), "utf8");
const STALE = "out of date: run `npm run config-schema` and commit the result";

describe("the configuration's JSON Schema", () => {
  it(`is committed as ${SCHEMA_FILE}, as the zod schema generates it`, () => {
    expect(read(SCHEMA_FILE), STALE).toBe(renderJsonSchema());
  });

  it("describes every field", () => {
    expect(undescribedFields()).toEqual([]);
  });

  it("is what editors read for the example", () => {
    const [first] = readFileSync(EXAMPLE_CONFIG_PATH, "utf8").split("\n");
    const match = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
    expect(match).not.toBeNull();
    expect(path.resolve(path.dirname(EXAMPLE_CONFIG_PATH), match![1])).toBe(path.join(PROJECT_ROOT, SCHEMA_FILE));
  });

  // Formats (email, uuid, ...) need a plugin an editor has; the structure is what is checked here.
  const validate = new Ajv2020({ strict: false, validateFormats: false, allErrors: true }).compile(configJsonSchema());

  it("accepts the example", () => {
    expect(validate(defaultRawConfig()), JSON.stringify(validate.errors)).toBe(true);
  });

  it("accepts an environment on a shared server, which sizes nothing itself", () => {
    const shared = configWith((r) => {
      r.databaseServers = [{ name: "shared-main", storageGb: 50, highAvailability: false, backupRetentionDays: 14, instanceClass: "db.t4g.medium", skuName: "GP_Standard_D2ds_v5" }];
      r.environments[0].database = { server: "shared-main" };
    });
    expect(validate(shared), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ["a misspelt field", (r: any) => (r.environments[2].database.highAvailabilty = true), "additionalProperties"],
    ["an invented region", (r: any) => (r.clouds.aws.region = "narnia"), "enum"],
    ["a number out of range", (r: any) => (r.environments[0].database.backupRetentionDays = 40), "maximum"],
    ["a missing required field", (r: any) => delete r.clouds.aws.cluster.version, "required"],
    ["a database that neither names a shared server nor sizes its own", (r: any) => delete r.environments[0].database.storageGb, "anyOf"],
  ])("rejects %s, as an editor would mark it", (_name, change, keyword) => {
    expect(validate(configWith(change))).toBe(false);
    expect(validate.errors?.map((error) => error.keyword)).toContain(keyword);
  });
});

describe(`the configuration reference in ${REFERENCE_FILE}`, () => {
  it("is the one the schema generates", () => {
    const docs = read(REFERENCE_FILE);
    expect(docs, STALE).toBe(withReference(docs));
  });

  it("has a row for every field, with its default", () => {
    const reference = renderReference();
    expect(reference).toContain("| `databaseServers[].highAvailability` | true or false | **required** |");
    expect(reference).toContain("| `environments[].database.highAvailability` | true or false | optional |");
    expect(reference).toContain("| `clouds.aws.network.natGateways` | `single`, `per-zone` | `\"single\"` |");
    expect(reference).toContain("| `clouds.azure.cluster.systemPool.zones` | list of `1`, `2`, `3` | `[\"1\",\"2\",\"3\"]` |");
  });
});
