import { TerraformResource, type IAspect } from "cdktf";
import type { IConstruct } from "constructs";

/** Resources whose generated class carries a `tags` map argument. */
interface Taggable {
  tags: Record<string, string>;
  readonly tagsInput?: Record<string, string>;
}

function isTaggable(node: IConstruct): node is TerraformResource & Taggable {
  return node instanceof TerraformResource && "tagsInput" in node;
}

/**
 * azurerm has no `default_tags`, so the standard tags are merged into each
 * taggable resource at synth. Keys the resource sets itself win; the program's
 * own keys cannot collide with user tags (the config schema reserves them).
 */
export class StandardTags implements IAspect {
  constructor(private readonly tags: Record<string, string>) {}

  visit(node: IConstruct): void {
    if (!isTaggable(node)) return;
    node.tags = { ...this.tags, ...(node.tagsInput ?? {}) };
  }
}
