/**
 * The CPU architecture of an EC2 instance type, from its family name: Graviton
 * families carry a `g` among the letters after the generation (`m7g`, `c7gn`,
 * `r8gd`, `t4g`, `im4gn`, `is4gen`, the GPU `g5g`), and `a1` is the first
 * Graviton. Everything else of the form `<class><generation><attributes>` is
 * x86_64. Undefined for names this reading does not cover (`u-6tb1`, `mac2-m2`).
 */
export function instanceTypeArchitecture(instanceType: string): "arm64" | "x86_64" | undefined {
  const family = instanceType.split(".")[0];
  const parts = /^([a-z]+)([0-9]+)([a-z]*)(-flex)?$/.exec(family);
  if (!parts) return undefined;
  const [, kind, generation, attributes] = parts;
  if (kind === "a" && generation === "1") return "arm64";
  return attributes.includes("g") ? "arm64" : "x86_64";
}

const EXAMPLE_TYPE = { arm64: "m7g.large", x86_64: "m7i.large" } as const;

/** One problem per instance type whose architecture contradicts the group's. */
export function instanceArchitectureProblems(
  group: { readonly instanceTypes: readonly string[]; readonly architecture: "x86_64" | "arm64" },
): { index: number; instanceType: string; message: string }[] {
  return group.instanceTypes.flatMap((instanceType, index) => {
    const actual = instanceTypeArchitecture(instanceType);
    if (actual === undefined || actual === group.architecture) return [];
    const kind = actual === "arm64" ? "an arm64 (Graviton) type" : "an x86_64 type";
    return [
      {
        index,
        instanceType,
        message: `is ${kind} but architecture is ${group.architecture}: set architecture to ${actual}, or use ${group.architecture} types such as ${EXAMPLE_TYPE[group.architecture]}`,
      },
    ];
  });
}
