import type { Reporter } from "vitest/reporters";

interface TaskLike {
  readonly name: string;
  readonly mode?: string;
  readonly result?: { readonly state?: string };
  readonly tasks?: readonly TaskLike[];
}

const REASON = /\[skipped: ([^\]]+)\]/;

/** Skipped checks by reason, from the `[skipped: <reason>]` notes `skipNote()` puts in group titles. */
export function skippedChecks(tasks: readonly TaskLike[]): Map<string, number> {
  const reasons = new Map<string, number>();
  const visit = (task: TaskLike, inherited: string | undefined) => {
    const reason = REASON.exec(task.name)?.[1] ?? inherited;
    if (task.tasks) {
      for (const child of task.tasks) visit(child, reason);
      return;
    }
    const skipped = task.mode === "skip" || task.result?.state === "skip";
    if (reason && skipped) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  };
  for (const task of tasks) visit(task, undefined);
  return reasons;
}

/**
 * Says, in the last lines of the run, which checks did not run and why, so a
 * green run on a laptop cannot be mistaken for the full suite.
 */
export default class SkippedChecksReporter implements Reporter {
  onFinished(files: readonly TaskLike[] = []): void {
    const reasons = skippedChecks(files);
    if (reasons.size === 0) return;
    const lines = [...reasons].map(([reason, count]) => `  - ${count} test${count === 1 ? "" : "s"}: ${reason}`);
    process.stdout.write(`\nSkipped checks (see docs/testing.md to run them):\n${lines.join("\n")}\n`);
  }
}
