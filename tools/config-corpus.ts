/**
 * Runs the corpus of wrong and edge-case configurations
 * (__tests__/support/bad-configs.ts) through the validator and counts how
 * each fares: rejected well (one line at the expected field, saying what is
 * allowed), slipped through, or rejected with a misleading message (another
 * field, or a sentence that does not say what is wrong).
 * Its command line is scripts/config-corpus.ts.
 */
import * as config from "../config";
import type { CorpusCase } from "../__tests__/support/bad-configs";
import { configWith } from "../__tests__/support/synth";

export type Outcome = "well" | "slipped" | "misleading";

interface Finding {
  readonly path: string;
  readonly message: string;
  readonly severity: "error" | "warning";
}

/** What the validator says about a case: its errors, or its warnings when it accepts the config. */
export function findingsOf(testCase: CorpusCase): { accepted: boolean; findings: Finding[] } {
  const raw = configWith(testCase.change);
  try {
    const resolved = config.validateConfig(raw);
    const api = config as unknown as { configWarnings?: (c: unknown) => { path: string; message: string }[] };
    const warnings = [...(api.configWarnings?.(resolved) ?? []), ...config.findPlaceholders(raw).map((p) => ({ path: p.path, message: p.reason }))];
    return { accepted: true, findings: warnings.map((w) => ({ ...w, severity: "warning" as const })) };
  } catch (error) {
    if (!(error instanceof config.ConfigError)) throw error;
    return { accepted: false, findings: error.problems.map((p) => ({ path: p.path, message: p.message, severity: "error" as const })) };
  }
}

export function outcomeOf(testCase: CorpusCase): { outcome: Outcome; detail: string } {
  const { accepted, findings } = findingsOf(testCase);
  const expected = testCase.expect;
  const said = findings.map((f) => `${f.severity} ${f.path}: ${f.message}`).join(" | ") || "(nothing)";
  if (expected === "accept") {
    return accepted ? { outcome: "well", detail: "accepted" } : { outcome: "misleading", detail: `rejected a valid config: ${said}` };
  }
  const severity = expected.severity ?? "error";
  const matches = (f: Finding) =>
    f.path === expected.path && f.severity === severity && (typeof expected.message === "string" ? f.message.includes(expected.message) : expected.message.test(f.message));
  if (findings.some(matches) && (severity === "warning" || findings.length === 1)) return { outcome: "well", detail: said };
  if (severity === "error" ? accepted : !findings.some((f) => f.path === expected.path)) return { outcome: accepted ? "slipped" : "misleading", detail: said };
  return { outcome: "misleading", detail: said };
}
