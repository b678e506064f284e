import { z } from "zod";
import { parseIpv4Network } from "./cidr";

/** A Kubernetes/DNS-1123 label: what namespaces, release and resource names must be. */
export const dnsLabel = (maxLength: number) =>
  z
    .string()
    .max(maxLength, { message: `at most ${maxLength} characters` })
    .regex(/^[a-z]([a-z0-9-]*[a-z0-9])?$/, {
      message: "lowercase letters, digits and '-', starting with a letter and not ending with '-'",
    });

export const ipv4Cidr = z.string().refine((value) => parseIpv4Network(value) !== undefined, {
  message: "an IPv4 network in CIDR notation with no host bits set, such as 10.0.0.0/16",
});

export const email = z.email({ message: "an e-mail address" });

/** The deployment stages every environment maps to. */
export const STAGES = ["develop", "staging", "production"] as const;
export type Stage = (typeof STAGES)[number];

/** Kubernetes minor versions both managed services support as of the pinned providers. */
export const KUBERNETES_VERSIONS = ["1.30", "1.31", "1.32", "1.33", "1.34"] as const;
export const kubernetesVersion = z.enum(KUBERNETES_VERSIONS);

/** Tag keys the program owns; user tags may not set them. */
export const RESERVED_TAG_KEYS = ["environment", "managed-by", "project"] as const;

export const userTags = z
  .record(z.string().min(1).max(128), z.string().max(256))
  .default({})
  .superRefine((tags, ctx) => {
    for (const key of Object.keys(tags)) {
      if ((RESERVED_TAG_KEYS as readonly string[]).includes(key)) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          input: key,
          message: `tag key '${key}' is set by the program; reserved keys are ${RESERVED_TAG_KEYS.join(", ")}`,
        });
      }
    }
  });
