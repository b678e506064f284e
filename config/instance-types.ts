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
