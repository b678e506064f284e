import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  ACCEPTED_TABLE_BEGIN,
  ACCEPTED_TABLE_END,
  AcceptedListError,
  acceptedTable,
  judgeStack,
  logicalId,
  parseAcceptedList,
  readCheckovReport,
  staleEntries,
  verdictLine,
  verdictMarkdown,
  type AcceptedEntry,
  type Finding,
} from "../tools/policy";

const ACCEPTED_FILE = path.join(__dirname, "..", "policy", "checkov-accepted.yaml");
const SECURITY_DOC = path.join(__dirname, "..", "docs", "security.md");

const LIST = `
accepted:
  - check: CKV_AWS_157
    stacks: [aws-develop-data, aws-staging-data]
    resource: postgres_instance_*
    reason: Multi-AZ is a production setting; develop can wait for a reboot.
  - check: CKV2_AZURE_57
    stacks: ["azure-*-data"]
    reason: A VNet-integrated Flexible Server cannot have a private endpoint.
  - check: CKV_AWS_999
    stacks: [aws-platform]
    frameworks: [terraform_plan]
    reason: Only seen in plans, where IAM documents are rendered.
`;

const multiAz: Finding = { check: "CKV_AWS_157", name: "Ensure that RDS instances have Multi-AZ enabled", resource: "resource.postgres_instance_919E2690" };
const privateEndpoint: Finding = {
  check: "CKV2_AZURE_57",
  name: "Ensure PostgreSQL Flexible Server is configured with private endpoint",
  resource: "azurerm_postgresql_flexible_server.postgres_server_20CD2676",
};

describe("accepted list", () => {
  it("parses entries with their stacks, resource pattern and reason", () => {
    const entries = parseAcceptedList(LIST);
    expect(entries).toHaveLength(3);
    expect(entries[0]).toMatchObject({ check: "CKV_AWS_157", stacks: ["aws-develop-data", "aws-staging-data"], resource: "postgres_instance_*" });
    expect(entries[2].frameworks).toEqual(["terraform_plan"]);
  });

  it("rejects an entry without a reason, naming the entry and the field", () => {
    const text = "accepted:\n  - check: CKV_AWS_157\n    stacks: [aws-develop-data]\n";
    expect(() => parseAcceptedList(text, "list.yaml")).toThrow(AcceptedListError);
    expect(() => parseAcceptedList(text, "list.yaml")).toThrow(/list\.yaml is invalid:\n  accepted\.0\.reason: /);
  });

  it("rejects a reason too short to explain anything", () => {
    const text = "accepted:\n  - check: CKV_AWS_157\n    stacks: [aws-develop-data]\n    reason: cost\n";
    expect(() => parseAcceptedList(text)).toThrow(/accepted\.0\.reason: a reason of at least 20 characters/);
  });

  it("rejects an unknown field and a malformed check id", () => {
    expect(() => parseAcceptedList("accepted:\n  - check: AWS_157\n    stacks: [x]\n    reason: a reason that is long enough\n")).toThrow(
      /accepted\.0\.check: a Checkov check id such as CKV_AWS_157/,
    );
    expect(() => parseAcceptedList("accepted:\n  - check: CKV_AWS_1\n    stack: [x]\n    reason: a reason that is long enough\n")).toThrow(/accepted\.0/);
  });

  it("the committed list parses", () => {
    const entries = parseAcceptedList(readFileSync(ACCEPTED_FILE, "utf8"));
    expect(entries.length).toBeGreaterThan(0);
  });

  it("docs/security.md shows the committed list, entry for entry", () => {
    const doc = readFileSync(SECURITY_DOC, "utf8");
    const begin = doc.indexOf(ACCEPTED_TABLE_BEGIN);
    const end = doc.indexOf(ACCEPTED_TABLE_END);
    expect(begin, "docs/security.md has the accepted-failures markers").toBeGreaterThanOrEqual(0);
    const shown = doc.slice(begin, end + ACCEPTED_TABLE_END.length);
    expect(shown).toBe(acceptedTable(parseAcceptedList(readFileSync(ACCEPTED_FILE, "utf8"))));
  });
});

describe("judging a stack's failures", () => {
  const entries = parseAcceptedList(LIST);

  it("accepts a failure its entry names for that stack and resource", () => {
    const verdict = judgeStack("aws-develop-data", "terraform_json", 61, [multiAz], entries);
    expect(verdict.failed).toEqual([]);
    expect(verdict.accepted.map(({ entry }) => entry.check)).toEqual(["CKV_AWS_157"]);
    expect(verdictLine(verdict)).toBe("aws-develop-data: passed 61, failed 0, accepted 1");
  });

  it("reports the same failure in a stack the entry does not name", () => {
    const verdict = judgeStack("aws-production-data", "terraform_json", 63, [multiAz], entries);
    expect(verdict.failed).toEqual([multiAz]);
    expect(verdict.accepted).toEqual([]);
    expect(verdictLine(verdict)).toBe("aws-production-data: passed 63, failed 1, accepted 0");
  });

  it("matches stacks by pattern", () => {
    for (const stack of ["azure-develop-data", "azure-production-data"]) {
      expect(judgeStack(stack, "terraform_plan", 2, [privateEndpoint], entries).failed).toEqual([]);
    }
    expect(judgeStack("azure-platform", "terraform_plan", 2, [privateEndpoint], entries).failed).toEqual([privateEndpoint]);
  });

  it("reports a failure on a resource the entry does not name", () => {
    const other = { ...multiAz, resource: "aws_db_instance.reporting_instance_1234ABCD" };
    expect(judgeStack("aws-develop-data", "terraform_json", 0, [other], entries).failed).toEqual([other]);
  });

  it("applies an entry only to the frameworks it names", () => {
    const finding: Finding = { check: "CKV_AWS_999", name: "x", resource: "aws_iam_role.x" };
    expect(judgeStack("aws-platform", "terraform_json", 0, [finding], entries).failed).toEqual([finding]);
    expect(judgeStack("aws-platform", "terraform_plan", 0, [finding], entries).failed).toEqual([]);
  });

  it("reads resources named by synthesized JSON and by plans alike", () => {
    expect(logicalId("resource.postgres_instance_919E2690")).toBe("postgres_instance_919E2690");
    expect(logicalId("aws_kms_key.backup-key_3D56A38B")).toBe("backup-key_3D56A38B");
    expect(logicalId("module.data.aws_db_instance.postgres_instance_919E2690[0]")).toBe("postgres_instance_919E2690");
  });
});

describe("stale entries", () => {
  const entries = parseAcceptedList(LIST);

  it("reports an entry that matches no failure in the stacks it names", () => {
    const verdicts = [judgeStack("aws-develop-data", "terraform_json", 61, [multiAz], entries), judgeStack("aws-staging-data", "terraform_json", 61, [], entries)];
    const stale = staleEntries(verdicts, "terraform_json", entries);
    // The Multi-AZ entry is used in develop; the Azure and plan-only entries name no scanned stack here.
    expect(stale).toEqual([]);
    const fixed = [judgeStack("aws-develop-data", "terraform_json", 62, [], entries), judgeStack("aws-staging-data", "terraform_json", 62, [], entries)];
    expect(staleEntries(fixed, "terraform_json", entries).map((entry: AcceptedEntry) => entry.check)).toEqual(["CKV_AWS_157"]);
  });

  it("does not call an entry stale for a framework it does not apply to", () => {
    const verdicts = [judgeStack("aws-platform", "terraform_json", 80, [], entries)];
    expect(staleEntries(verdicts, "terraform_json", entries)).toEqual([]);
    expect(staleEntries([judgeStack("aws-platform", "terraform_plan", 80, [], entries)], "terraform_plan", entries).map((e) => e.check)).toEqual([
      "CKV_AWS_999",
    ]);
  });
});

describe("optional entries", () => {
  it("are not stale where their configuration does not occur, and accept the failure where it does", () => {
    const [entry] = parseAcceptedList(`accepted:
  - check: CKV_AZURE_170
    stacks: [azure-platform, azure-*-platform]
    resource: aks_cluster_*
    optional: true
    reason: the Free tier of a cluster without production
`);
    const freeTier = { check: "CKV_AZURE_170", resource: "resource.aks_cluster_D4B35EC5", name: "Ensure that AKS use the Paid Sku for its SLA" };
    expect(staleEntries([judgeStack("azure-platform", "terraform_json", 80, [], [entry])], "terraform_json", [entry])).toEqual([]);
    expect(staleEntries([judgeStack("azure-platform", "terraform_json", 80, [], [{ ...entry, optional: undefined }])], "terraform_json", [{ ...entry, optional: undefined }])).toHaveLength(1);
    const verdict = judgeStack("azure-tools-platform", "terraform_json", 80, [freeTier], [entry]);
    expect(verdict.failed).toEqual([]);
    expect(verdict.accepted).toHaveLength(1);
  });
});

describe("Checkov reports", () => {
  it("reads the passed count and the failures of a report", () => {
    const report = {
      check_type: "terraform_json",
      results: { failed_checks: [{ check_id: "CKV_AWS_157", check_name: multiAz.name, resource: multiAz.resource }] },
      summary: { passed: 61, failed: 1 },
    };
    expect(readCheckovReport(JSON.stringify(report))).toEqual({ passed: 61, failures: [multiAz] });
  });

  it("reads the summary-only report of a stack with no resources", () => {
    expect(readCheckovReport(JSON.stringify({ passed: 0, failed: 0, skipped: 0, resource_count: 0 }))).toEqual({ passed: 0, failures: [] });
  });

  it("fails on output that is not a report", () => {
    expect(() => readCheckovReport("Traceback (most recent call last):")).toThrow(/did not print a JSON report.*Traceback/);
  });

  it("writes a markdown section listing the failures not accepted", () => {
    const verdict = judgeStack("aws-production-data", "terraform_plan", 63, [multiAz], parseAcceptedList(LIST));
    const markdown = verdictMarkdown(verdict);
    expect(markdown).toContain("### Policy scan: aws-production-data (FAILED)");
    expect(markdown).toContain("| 63 | 1 | 0 |");
    expect(markdown).toContain("| CKV_AWS_157 | `resource.postgres_instance_919E2690` |");
  });
});
