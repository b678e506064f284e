/**
 * Alertmanager's inhibition, as `amtool` cannot test it: whether a firing
 * alert keeps another from being sent, under a configuration's
 * `inhibit_rules` (prometheus/alertmanager `inhibit/inhibit.go`): the target
 * matches a rule's target matchers, the source its source matchers, both
 * carry the same values of the rule's `equal` labels (a missing label is
 * the empty value), and an alert that matches both sides of a rule cannot
 * be silenced by another that does too.
 */

type Labels = Record<string, string>;

interface InhibitRule {
  readonly source_matchers?: readonly string[];
  readonly target_matchers?: readonly string[];
  readonly equal?: readonly string[];
}

/** One matcher in Alertmanager's string form: `name op value`, the value quoted or not. */
function matcher(text: string): (labels: Labels) => boolean {
  const parsed = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/.exec(text);
  if (!parsed) throw new Error(`not a matcher: ${text}`);
  const [, name, op, raw] = parsed;
  const value = /^".*"$/.test(raw) ? (JSON.parse(raw) as string) : raw;
  const test = (actual: string): boolean => {
    switch (op) {
      case "=":
        return actual === value;
      case "!=":
        return actual !== value;
      case "=~":
        return new RegExp(`^(?:${value})$`).test(actual);
      default:
        return !new RegExp(`^(?:${value})$`).test(actual);
    }
  };
  return (labels) => test(labels[name] ?? "");
}

const matchesAll = (matchers: readonly string[] | undefined, labels: Labels): boolean => (matchers ?? []).every((m) => matcher(m)(labels));

/** Whether `source`, while it fires, keeps `target` from being sent. */
export function inhibited(rules: readonly InhibitRule[], source: Labels, target: Labels): boolean {
  return rules.some((rule) => {
    if (!matchesAll(rule.target_matchers, target) || !matchesAll(rule.source_matchers, source)) return false;
    if ((rule.equal ?? []).some((label) => (source[label] ?? "") !== (target[label] ?? ""))) return false;
    const bothSides = (labels: Labels) => matchesAll(rule.source_matchers, labels) && matchesAll(rule.target_matchers, labels);
    return !(bothSides(target) && bothSides(source));
  });
}
