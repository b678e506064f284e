import { z } from "zod";
import { bytes, cpuQuantity, memoryQuantity, millicores } from "./quantity";

/** The namespace previews run in, and the one that delivers them: names no environment may take. */
export const PREVIEW_NAMESPACES = { workloads: "preview", delivery: "preview-delivery" } as const;

/** Days without a push after which the expiry workflow takes the label off a pull request. */
export const DEFAULT_PREVIEW_STALE_DAYS = 7;

export const previewsSchema = z
  .object({
    environment: z
      .string()
      .describe("The non-production environment previews borrow: its cluster, database server, registry and limit range (e.g. develop)."),
    label: z
      .string()
      .min(1)
      .max(50, { message: "at most 50 characters: GitHub's limit for a label name" })
      .regex(/^[^,\s][^,]*$/, { message: "a GitHub label name: no comma, not starting with a space" })
      .default("preview")
      .describe("The label that opts an application's pull request into a preview."),
    maxOpen: z.number().int().min(1).max(50).default(5).describe("Most previews of one application at once: the oldest labelled pull requests beyond it get none."),
    quota: z
      .object({
        requestsCpu: cpuQuantity().describe("Sum of CPU requests of every preview pod, e.g. '4'."),
        requestsMemory: memoryQuantity().describe("Sum of memory requests of every preview pod, e.g. '8Gi'."),
        pods: z.number().int().min(1).max(1000).describe("Most pods every preview together may run."),
      })
      .strict()
      .describe("What all previews together may request in the preview namespace."),
    path: z
      .string()
      .regex(/^[A-Za-z0-9._/-]+$/, { message: "a directory in the application's repository, such as deploy/preview" })
      .regex(/^(?!(.*\/)?\.\.(\/|$))/, { message: "stays inside the repository: no '..'" })
      .default("deploy/preview")
      .describe("Where an application's repository keeps the manifests a preview applies, at the pull request's head commit."),
    staleDays: z
      .number()
      .int()
      .min(1)
      .max(90)
      .default(DEFAULT_PREVIEW_STALE_DAYS)
      .describe("Days without a push after which the expiry workflow removes the label, and with it the preview."),
  })
  .strict();

export type PreviewsConfig = z.infer<typeof previewsSchema>;

/** A GitHub repository URL: the only host the GitHubPullRequest input provider reads. */
export const applicationRepository = z
  .string()
  .regex(/^https:\/\/github\.com\/[A-Za-z0-9-]+\/(?!.*\.git$)[A-Za-z0-9._-]+$/, { message: "a GitHub repository URL such as https://github.com/acme/web (no .git, no trailing slash)" });

interface PreviewsInput {
  readonly previews?: PreviewsConfig;
  readonly applications: readonly { readonly name: string; readonly repository?: string; readonly previews?: boolean }[];
  readonly environments: readonly {
    readonly name: string;
    readonly stage?: string;
    readonly limitRange: { readonly defaultRequestCpu: string; readonly defaultRequestMemory: string };
  }[];
  readonly clouds?: { readonly aws?: { readonly cluster?: { readonly nodePools?: readonly { readonly name: string }[] } } };
}

/** The NodePool previews get on EKS (constructs/aws/karpenter.ts). */
export const PREVIEW_NODE_POOL = "preview";

type Report = (path: (string | number)[], input: unknown, message: string) => void;

/**
 * Previews borrow a non-production environment, preview applications that
 * name their repository, and leave room for at least one container.
 */
export function checkPreviews(config: PreviewsInput, report: Report): void {
  config.environments.forEach((env, i) => {
    if ((Object.values(PREVIEW_NAMESPACES) as string[]).includes(env.name)) {
      report(["environments", i, "name"], env.name, `the namespace ${env.name} is the previews'; name the environment otherwise`);
    }
  });
  const previews = config.previews;
  config.applications.forEach((app, i) => {
    if (app.previews && previews === undefined) report(["applications", i, "previews"], app.previews, "needs the top-level previews settings (previews.environment, previews.quota)");
    if (app.previews && app.repository === undefined) report(["applications", i, "repository"], app.repository, "previews: true needs the application's GitHub repository, whose pull requests are previewed");
  });
  if (previews === undefined) return;
  const borrowed = config.environments.find((env) => env.name === previews.environment);
  if (borrowed === undefined) {
    report(["previews", "environment"], previews.environment, `unknown environment; configured environments are ${config.environments.map((env) => env.name).join(", ")}`);
  } else {
    if ((borrowed.stage ?? borrowed.name) === "production") {
      report(["previews", "environment"], previews.environment, "is a production environment; previews borrow a non-production one's cluster and registry");
    }
    // The borrowed environment's limit range gives each preview container its requests: one must fit.
    const { defaultRequestCpu, defaultRequestMemory } = borrowed.limitRange;
    if ((millicores(previews.quota.requestsCpu) ?? Infinity) < (millicores(defaultRequestCpu) ?? 0)) {
      report(["previews", "quota", "requestsCpu"], previews.quota.requestsCpu, `is less than one container's default request in ${borrowed.name} (${defaultRequestCpu}): no preview pod would fit`);
    }
    if ((bytes(previews.quota.requestsMemory) ?? Infinity) < (bytes(defaultRequestMemory) ?? 0)) {
      report(["previews", "quota", "requestsMemory"], previews.quota.requestsMemory, `is less than one container's default request in ${borrowed.name} (${defaultRequestMemory}): no preview pod would fit`);
    }
  }
  config.clouds?.aws?.cluster?.nodePools?.forEach((pool, i) => {
    if (pool.name === PREVIEW_NODE_POOL) report(["clouds", "aws", "cluster", "nodePools", i, "name"], pool.name, "is the NodePool previews get on EKS; name the pool otherwise");
  });
  if (!config.applications.some((app) => app.previews)) {
    report(["previews"], previews.environment, "no application has previews: true; set it on the applications whose pull requests are previewed, or remove previews");
  }
}
