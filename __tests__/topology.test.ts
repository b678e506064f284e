import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { programAddresses } from "./support/addresses";
import { synthesize } from "./support/synth";

/**
 * The default program's stack ids and Terraform addresses as deployed
 * platforms have them in state. A change here moves or replaces resources of
 * every existing deployment: it needs `moved` blocks and a plan that shows no
 * replacement, not a new fixture.
 */
const DEFAULT_ADDRESSES = path.join(__dirname, "fixtures/topology/default-addresses.json");

describe("the default topology", () => {
  it("keeps every stack id and resource address of a deployed platform", () => {
    const expected = JSON.parse(readFileSync(DEFAULT_ADDRESSES, "utf8")) as Record<string, string[]>;
    const actual = programAddresses(synthesize());
    expect(Object.keys(actual)).toEqual(Object.keys(expected));
    for (const [stack, addresses] of Object.entries(expected)) expect(actual[stack], stack).toEqual(addresses);
  });
});
