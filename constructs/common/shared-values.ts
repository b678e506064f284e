import { TerraformLocal, Token } from "cdktf";
import type { Construct } from "constructs";

type Values = Record<string, string | Record<string, string>>;

/**
 * Values of the cloud's shared zone and registry, which the first cluster's
 * platform holds, as another cluster's platform hands them on: each through
 * a local of its own stack, so that the cluster's add-on, data and
 * environment stacks read their own platform's state and no other. Values
 * known at synth (names from the config) and the holder's own pass as they are.
 */
export function relaySharedValues<T extends Values>(stack: Construct, fromOtherStack: boolean, values: T): T {
  if (!fromOtherStack) return values;
  const relay = (id: string, value: string): string => (Token.isUnresolved(value) ? new TerraformLocal(stack, `shared-${id}`, value).asString : value);
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [
      key,
      typeof value === "string" ? relay(key, value) : Object.fromEntries(Object.entries(value).map(([inner, item]) => [inner, relay(`${key}-${inner}`, item)])),
    ]),
  ) as T;
}
