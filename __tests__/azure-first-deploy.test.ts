import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resourcesOf, synthesize, type Synthesized } from "./support/synth";

/**
 * What a first Azure deploy meets that later ones do not: log tables that do
 * not exist yet, and a Key Vault whose firewall must admit wherever
 * Terraform plans the data stacks (docs/azure.md).
 */
describe("Azure on a first deploy", () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize(undefined, { only: "azure" });
  });
  afterAll(() => synth.cleanup());

  const azureStacks = () => Object.keys(synth.manifest.stacks).filter((id) => id.startsWith("azure-"));

  it("every log alert skips Azure's query validation, which refuses a table before its first row", () => {
    const rules = azureStacks().flatMap((id) => Object.entries(resourcesOf(synth.stack(id), "azurerm_monitor_scheduled_query_rules_alert_v2")).map(([name, rule]) => ({ id, name, skip: rule.skip_query_validation })));
    // The platform's heartbeat and each data stack's two backup alerts.
    expect(rules).toHaveLength(1 + 2 * 3);
    for (const rule of rules) expect(rule).toEqual({ ...rule, skip: true });
  });

  it("the Key Vault admits the CI runners' ranges, which the data stacks plan from", () => {
    const vault = Object.values(resourcesOf(synth.stack("azure-platform"), "azurerm_key_vault"))[0];
    expect(vault.network_acls.default_action).toBe("Deny");
    expect(vault.network_acls.ip_rules).toContain("198.51.100.0/24");
  });
});
