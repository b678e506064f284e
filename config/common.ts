import { z } from "zod";
import { insidePattern, networkPattern, NON_PUBLIC_RANGES, PRIVATE_RANGES } from "./cidr";

/** A Kubernetes/DNS-1123 label: what namespaces, release and resource names must be. */
export const dnsLabel = (maxLength: number) =>
  z
    .string()
    .max(maxLength, { message: `at most ${maxLength} characters` })
    .regex(/^[a-z]([a-z0-9-]*[a-z0-9])?$/, {
      message: "lowercase letters, digits and '-', starting with a letter and not ending with '-'",
      abort: true,
    });

const NETWORK_MESSAGE = "an IPv4 network in CIDR notation with no host bits set, such as 10.0.0.0/16";
export const ipv4Cidr = z.string().regex(new RegExp(networkPattern()), { message: NETWORK_MESSAGE, abort: true });

/** A network with a prefix length from `min` to `max`. */
export const cidrSized = (min: number, max: number, message: string) =>
  ipv4Cidr.regex(new RegExp(`/${alternatives(min, max)}$`), { message });

const alternatives = (min: number, max: number) => `(${Array.from({ length: max - min + 1 }, (_, i) => min + i).join("|")})`;

/** A network of a prefix length from `min` to `max` inside one of the RFC 1918 ranges. */
export const privateCidr = (min: number, max: number, sizeMessage: string, rangeMessage: string) =>
  cidrSized(min, max, sizeMessage).regex(new RegExp(`^(${PRIVATE_RANGES.map(insidePattern).join("|")})$`), { message: rangeMessage });

/**
 * A network admitted to a public endpoint: never everyone (/0), and never a
 * range no request from the internet comes from, which can never reach it.
 */
export const publicCidr = (endpoint: string, instead: string) =>
  NON_PUBLIC_RANGES.reduce(
    (schema, range) =>
      schema.regex(new RegExp(`^(?!${insidePattern(range)}$)`), {
        message: `lies in ${range.cidr}, which is not a public range: no request from it ever reaches ${endpoint}; list the public addresses your traffic leaves from`,
      }),
    ipv4Cidr.regex(/^(?!.*\/0$)/, { message: `${endpoint} is never open to the whole internet; ${instead}`, abort: true }),
  );

/**
 * The name of the platform or of an environment: a DNS label that also goes
 * into RDS identifiers, Key Vault and bucket names, which refuse `--`; S3
 * reserves the prefixes `sthree-` and `amzn-s3-demo-` (and `xn--`).
 */
export const resourceName = (maxLength: number) =>
  dnsLabel(maxLength)
    .regex(/^(?!.*--)/, { message: "no consecutive hyphens ('--'): RDS identifiers, Key Vault and bucket names refuse them" })
    .regex(/^(?!sthree-|amzn-s3-demo-)/, { message: "must not start with sthree- or amzn-s3-demo-: S3 reserves those prefixes for bucket names" });

export const email = z.email({ message: "an e-mail address" });

/** Characters that render as nothing or reorder text (zero-width spaces, bidi controls) and control characters. */
export const INVISIBLE = /[\p{Cf}\p{Cc}]/u;

/**
 * A Git branch name as `git check-ref-format --branch` accepts it, in
 * printable ASCII so that no look-alike letter names a different branch.
 */
export const branchName = z
  .string()
  .min(1)
  .regex(/^[\x21-\x7e]+$/, { message: "printable ASCII without spaces: a look-alike or invisible character would name another branch", abort: true })
  .regex(/^(?!-)(?!.*(\.\.|@\{|\/\/|\/\.|[~^:?*[\\]))(?!\.)(?!.*(\.lock|\.|\/)$)(?!@$).+$/, {
    message: "not a valid Git branch name: no '..', '@{', '//', '~', '^', ':', '?', '*', '[' or '\\', not starting with '-' or '.', not ending with '/', '.' or '.lock'",
  });

/** The deployment stages every environment maps to. */
export const STAGES = ["develop", "staging", "production"] as const;
export type Stage = (typeof STAGES)[number];

/** Kubernetes minor versions both managed services support as of the pinned providers. */
export const KUBERNETES_VERSIONS = ["1.30", "1.31", "1.32", "1.33", "1.34"] as const;
export const kubernetesVersion = z.enum(KUBERNETES_VERSIONS);

/** Tag keys the program owns; user tags may not set them. */
export const RESERVED_TAG_KEYS = ["environment", "managed-by", "project"] as const;

/** Tags a resource may carry in either cloud (AWS and Azure both allow 50). */
export const MAX_TAGS_PER_RESOURCE = 50;
/**
 * The most tags the program itself puts on one resource (the standard three,
 * plus `Name`, `karpenter.sh/discovery` and the like); a test reads the most
 * any synthesized resource carries and keeps this in step.
 */
export const PROGRAM_TAGS_PER_RESOURCE = 7;
export const MAX_USER_TAGS = MAX_TAGS_PER_RESOURCE - PROGRAM_TAGS_PER_RESOURCE;

/** What AWS accepts in tag keys and values: letters, digits, spaces and `_ . : / = + - @`. */
const AWS_TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const AWS_TAG_MESSAGE = "letters, digits, spaces and _ . : / = + - @ only (what AWS accepts in tags)";

export const userTags = z
  .record(
    z
      .string()
      .min(1)
      .max(128)
      .regex(AWS_TAG_TEXT, { message: AWS_TAG_MESSAGE, abort: true })
      .regex(/^(?![aA][wW][sS]:)/, { message: "tag keys starting with aws: are reserved for AWS" }),
    z.string().max(256).regex(AWS_TAG_TEXT, { message: AWS_TAG_MESSAGE }),
  )
  .meta({ maxProperties: MAX_USER_TAGS })
  .default({})
  .superRefine((tags, ctx) => {
    const count = Object.keys(tags).length;
    if (count > MAX_USER_TAGS) {
      ctx.addIssue({
        code: "custom",
        input: count,
        message: `${count} tags; a resource carries at most ${MAX_TAGS_PER_RESOURCE} and the program sets up to ${PROGRAM_TAGS_PER_RESOURCE}, so at most ${MAX_USER_TAGS}`,
      });
    }
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
