import { TerraformStack, type TerraformResource } from "cdktf";
// cdktf's own logical id function: the address a construct id had, for a `moved` block.
import { makeUniqueId } from "cdktf/lib/private/unique";

/**
 * A construct id part taken from a list item itself (an ARN, an e-mail
 * address), so that removing or reordering one item leaves the others'
 * resources where they are: `arn:aws:iam::123456789012:role/platform-admins`
 * becomes `role-platform-admins`, `ops@example.com` `ops-example-com`.
 */
export function itemKey(value: string): string {
  const withoutArnPrefix = value.replace(/^arn:[^:]*:[^:]*:[^:]*:[^:]*:/, "");
  return withoutArnPrefix.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-+|-+$/g, "").toLowerCase();
}

/**
 * Moves the resource a construct once had at a list position (`admin-0`) to
 * this one, taken from its item: a `moved` block, a no-op where that address
 * is not in the state. A deployment made before ids came from items moves
 * each resource once, on its next apply, as long as the list has the order
 * it was applied with.
 */
export function movedFromPositionalId(resource: TerraformResource, positionalId: string): void {
  const scopes = resource.node.scopes;
  const components = scopes.slice(scopes.indexOf(TerraformStack.of(resource)) + 1).map((scope) => scope.node.id);
  components[components.length - 1] = positionalId;
  resource.moveFromId(`${resource.terraformResourceType}.${makeUniqueId(components)}`);
}
