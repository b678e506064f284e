import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "..");
const documents = ["README.md", ...readdirSync(path.join(root, "docs")).filter((file) => file.endsWith(".md")).map((file) => `docs/${file}`)];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const match of text.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const slug = headingSlug(match[1].replace(/`/g, ""));
    const count = seen.get(slug) ?? 0;
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
    seen.set(slug, count + 1);
  }
  return anchors;
}

/** Every relative link target of a markdown document, outside code blocks. */
function relativeLinks(file: string): string[] {
  const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]).filter((target) => !/^[a-z]+:/i.test(target));
}

describe("links between README and docs/", () => {
  it("finds the documents and their links", () => {
    expect(documents.length).toBeGreaterThan(5);
    expect(relativeLinks(path.join(root, "README.md")).length).toBeGreaterThan(5);
  });

  it.each(documents)("every relative link of %s reaches a file and, with an anchor, a heading", (document) => {
    const from = path.join(root, document);
    const broken: string[] = [];
    for (const link of relativeLinks(from)) {
      const [target, anchor] = link.split("#");
      const file = target ? path.resolve(path.dirname(from), target) : from;
      if (!existsSync(file)) {
        broken.push(`${link}: no such file`);
        continue;
      }
      if (anchor && !(statSync(file).isFile() && anchorsOf(file).has(anchor))) broken.push(`${link}: no heading #${anchor}`);
    }
    expect(broken).toEqual([]);
  });

  it("slugs headings the way GitHub does", () => {
    expect(headingSlug("What the plans need to reach and read")).toBe("what-the-plans-need-to-reach-and-read");
    expect(headingSlug("`clouds.azure` reference")).toBe("cloudsazure-reference");
    expect(headingSlug("Promotion: develop → staging → production")).toBe("promotion-develop--staging--production");
  });

  it("keeps README a front door of at most 250 lines", () => {
    expect(readFileSync(path.join(root, "README.md"), "utf8").split("\n").length).toBeLessThanOrEqual(250);
  });
});
