import Ajv2020 from "ajv/dist/2020";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { configSchema } from "../config/schema";
import { configJsonSchema } from "../tools/config-reference";
import { BAD_CONFIGS } from "./support/bad-configs";
import { configWith, defaultRawConfig } from "./support/synth";

/**
 * The editor's schema and synth agree on every rule about one field alone:
 * each value of a corpus is run through the field's zod schema (what synth
 * enforces, before the rules between fields) and through the field's part of
 * config/platform.schema.json (what an editor marks), and both must accept
 * or both refuse it. Values checked against the reference lists (instance
 * types, zones, sizes) and rules between fields are synth's alone, and are
 * not part of either side here.
 */

type Json = Record<string, any>;
type Segment = string | number;

const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "readonly", "catch", "nonoptional"]);
const unwrap = (schema: z.core.$ZodType): z.core.$ZodType => {
  let node = schema;
  for (;;) {
    const def = node._zod.def as any;
    if (WRAPPERS.has(def.type)) node = def.innerType;
    else if (def.type === "pipe") node = def.in;
    else return node;
  }
};

/** Every field that holds one value (text, number, true/false), with its zod schema and its JSON Schema. */
function leaves(schema: z.core.$ZodType, json: Json, at: Segment[] = []): { path: Segment[]; zod: z.core.$ZodType; json: Json }[] {
  const node = unwrap(schema);
  const def = node._zod.def as any;
  switch (def.type) {
    case "object":
      return Object.entries(def.shape).flatMap(([key, child]) => leaves(child as z.core.$ZodType, json.properties[key], [...at, key]));
    case "array":
      return leaves(def.element, json.items, [...at, 0]);
    case "record":
      return leaves(def.valueType, json.additionalProperties, [...at, "key"]);
    case "unknown":
      return [];
    default:
      return [{ path: at, zod: schema, json }];
  }
}

const textProbes = [
  "", " ", "a", "A", "acme", "ac--me", "-acme", "acme-", "Acme_Corp", "xn--acme", "sthree-acme", "a".repeat(64),
  "10.0.0.0/16", "10.0.0.1/16", "0.0.0.0/0", "0.0.0.0/1", "10.40.0.0/16", "10.0.0.0/24", "172.20.0.0/16", "100.64.0.0/16", "8.8.0.0/16",
  "192.168.1.0/24", "203.0.113.0/24", "84.17.32.0/24", "10.50.64.0/29", "10.50.64.0/28", "172.20.0.10", "300.1.1.1",
  "main", "feature..x", "main.lock", "release/2026.12", "x//y", "m\u0430in", "deploy/develop", "../other", "./deploy/x/",
  "500m", "0", "0m", "2", "0.5", "4Gi", "0Gi", "256GB", "1.30", "1.33", "1.3", "16", "17", "15",
  "db.t4g.micro", "t3.micro", "m7i.large", "c7g", "m", "GP_Standard_D4ds_v5", "Standard_D4ds_v5",
  "https://github.com/acme/platform-deploy.git", "ssh://git@github.com/acme/x.git", "http://x.io/y.git", "https://", "ftp://x.io",
  "https://git\u200bhub.com/a.git", "eu-west-1", "eu-west-1a", "cn-north-1", "westeurope", "narnia",
  ">=1.0.0", "^1.4.0", "1.x", "latest", ">=1.0.0 <2.0.0", "1h30m", "30d", "720h", "Never", "10%", "33%", "101%", "1",
  "arn:aws:iam::123456789012:role/admins", "arn:aws-cn:iam::123456789012:role/admins", "admin",
  "ops@example.com", "not-an-email", "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "00000000-0000-4000-8000-000000000001",
  "/healthz", "healthz", "aws:team", "team<1>", "cost-center", "platform", "acme-platform-kv", "acme--kv", "acmeplatformacr",
  "state-bucket", "state-s3alias", "192.168.10.20", "WhenEmpty", "spot", "amd64", "Premium", "Group", "Sunday",
];
const numberProbes = [-1, 0, 0.5, 1, 2, 5, 7, 10, 20, 30, 35, 36, 99, 100, 365, 366, 1000, 2555, 3650, 16384, 65536, 100000];

/** The example's value at a path (a representative valid value for the field), if it has one. */
function exampleValue(path: Segment[]): unknown {
  return path.reduce<any>((node, key) => (node === undefined || node === null ? undefined : Array.isArray(node) ? node[0] : typeof key === "number" ? node[0] : node[key]), defaultRawConfig());
}

describe("the JSON Schema and synth on rules about one field", () => {
  const root = configJsonSchema();
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  const fields = leaves(configSchema, root);

  it("covers every field of the config", () => {
    expect(fields.length).toBeGreaterThan(120);
  });

  it("accept and refuse the same values, field by field", () => {
    const disagreements: string[] = [];
    for (const field of fields) {
      const validate = ajv.compile(field.json);
      const leafType = (unwrap(field.zod)._zod.def as any).type;
      const probes: unknown[] = [...(leafType === "number" ? numberProbes : leafType === "boolean" ? [true, false] : textProbes), exampleValue(field.path)];
      for (const value of probes) {
        if (value === undefined) continue;
        const synth = (field.zod as z.ZodType).safeParse(value).success;
        const editor = validate(value) as boolean;
        if (synth !== editor) disagreements.push(`${field.path.join(".")}: ${JSON.stringify(value)} synth ${synth ? "accepts" : "refuses"}, the schema ${editor ? "accepts" : "refuses"}`);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it("refuse, in the whole schema, each corpus config whose one problem is a rule about one field", () => {
    const validate = ajv.compile(root);
    const singleField = BAD_CONFIGS.filter((testCase) => testCase.expect !== "accept" && testCase.expect.severity !== "warning").filter((testCase) => {
      try {
        (configSchema as z.ZodType).parse(configWith(testCase.change));
      } catch {
        return true;
      }
      return false;
    });
    expect(singleField.length).toBeGreaterThan(0);
    const accepted = singleField.filter((testCase) => {
      const raw = configWith(testCase.change);
      // Only what the field's own schema refuses belongs to the editor's schema.
      const path = (testCase.expect as { path: string }).path;
      const field = fields.find((f) => formatLeaf(f.path) === path.replace(/\[\d+\]/g, "[0]"));
      if (!field || (field.zod as z.ZodType).safeParse(valueAtDotted(raw, path)).success) return false;
      return validate(raw);
    });
    expect(accepted.map((testCase) => testCase.name)).toEqual([]);
  });
});

function formatLeaf(path: Segment[]): string {
  return path.reduce<string>((acc, key) => (typeof key === "number" ? `${acc}[0]` : acc ? `${acc}.${key}` : String(key)), "");
}

function valueAtDotted(root: unknown, path: string): unknown {
  return path.match(/[^.[\]]+/g)!.reduce<any>((node, key) => node?.[/^\d+$/.test(key) ? Number(key) : key], root);
}
