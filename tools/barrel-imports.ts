/**
 * The benchmark's comparison (`npm run bench`): the program as most cdktf
 * code imports the providers, from the barrel, against its deep imports.
 */
const DEEP_IMPORT = /import\s+(type\s+)?\{([^}]*)\}\s*from\s*["'](@cdktf\/provider-[\w-]+)\/lib\/([\w-]+)["'];?/g;

/**
 * The same source with every deep provider import turned into the barrel
 * form most cdktf code uses: one namespace import of the whole package and the
 * classes taken from it. Type-only imports stay, since they vanish at runtime.
 */
export function toBarrelImports(source: string, namespaces: (pkg: string) => Map<string, string>): string {
  const packages = new Set<string>();
  const rewritten = source.replace(DEEP_IMPORT, (statement, typeOnly: string | undefined, names: string, pkg: string, folder: string) => {
    if (typeOnly) return statement;
    const namespace = namespaces(pkg).get(folder);
    if (!namespace) throw new Error(`${pkg} has no barrel export for lib/${folder}`);
    const values = names
      .split(",")
      .map((name) => name.trim())
      .filter((name) => name && !name.startsWith("type "))
      .map((name) => name.replace(/^(\w+)\s+as\s+(\w+)$/, "$1: $2"));
    packages.add(pkg);
    return values.length === 0 ? "" : `const { ${values.join(", ")} } = ${barrelName(pkg)}.${namespace};`;
  });
  if (packages.size === 0) return source;
  const imports = [...packages].map((pkg) => `import * as ${barrelName(pkg)} from "${pkg}";`).join("\n");
  return `${imports}\n${rewritten}`;
}

const barrelName = (pkg: string): string => `barrel_${pkg.replace(/^@cdktf\/provider-/, "").replace(/-/g, "_")}`;

/** A copy of the program outside the repository with barrel imports; node_modules is linked, not copied. */
