import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { ContainerRegistry } from "../contract";
import { ManifestsRelease, type KubernetesObject } from "../kubernetes/manifests-release";
import { GITOPS_OBJECTS } from "./gitops-delivery";
import { repositoryPath } from "./repository-path";

/** Build tags CI pushes: `<git sha>-<unix timestamp>`, ordered by the timestamp. */
export const BUILD_TAG_PATTERN = "^[a-f0-9]+-(?P<ts>[0-9]+)$";

/** Which tag an ImagePolicy picks. */
export type TagPolicy = { readonly kind: "timestamp" } | { readonly kind: "semver"; readonly range: string };

/** Git side of an ImageUpdateAutomation. */
export interface ImageCommits {
  /** Branch the automation checks out. */
  readonly checkoutBranch: string;
  /** Branch it pushes to: the checkout branch, or one a pull request merges from. */
  readonly pushBranch: string;
  /** Directory whose image policy markers it updates, relative to the repository root. */
  readonly path: string;
  readonly authorEmail: string;
}

export interface ImageAutomationProps {
  readonly namespace: string;
  readonly registry: ContainerRegistry;
  /** Applications, each with a repository in `registry.repositories`. */
  readonly applications: string[];
  readonly tagPolicy: TagPolicy;
  /** When set, Flux commits the tags the policies pick. @default - policies only report the tag */
  readonly commits?: ImageCommits;
  /** Registry scan interval. @default "5m" */
  readonly interval?: string;
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * An ImageRepository and an ImagePolicy per application, named after it, so
 * manifests mark image fields with `{"$imagepolicy": "<namespace>:<app>:tag"}`.
 * The registry is scanned with the image-reflector-controller's own cloud
 * identity (`registry.fluxProvider`): no pull secret exists.
 */
export class ImageAutomation extends Construct {
  readonly imageRepositories: KubernetesObject[];
  readonly imagePolicies: KubernetesObject[];
  readonly imageUpdateAutomation?: KubernetesObject;
  readonly release: ManifestsRelease;

  constructor(scope: Construct, id: string, props: ImageAutomationProps) {
    super(scope, id);
    const { namespace, registry } = props;
    const interval = props.interval ?? "5m";
    const missing = props.applications.filter((app) => registry.repositories[app] === undefined);
    if (missing.length > 0) {
      throw new Error(`${this.node.path}: the registry has no repository for ${missing.join(", ")}`);
    }

    this.imageRepositories = props.applications.map((app) => ({
      apiVersion: "image.toolkit.fluxcd.io/v1",
      kind: "ImageRepository",
      metadata: { name: app, namespace },
      spec: { image: registry.repositories[app], interval, provider: registry.fluxProvider },
    }));
    const tagPolicy = props.tagPolicy;
    // A fresh object per policy: shared ones would be written as YAML anchors and aliases.
    const policy = () =>
      tagPolicy.kind === "semver"
        ? { policy: { semver: { range: tagPolicy.range } } }
        : { filterTags: { pattern: BUILD_TAG_PATTERN, extract: "$ts" }, policy: { numerical: { order: "asc" } } };
    this.imagePolicies = props.applications.map((app) => ({
      apiVersion: "image.toolkit.fluxcd.io/v1",
      kind: "ImagePolicy",
      metadata: { name: app, namespace },
      spec: { imageRepositoryRef: { name: app }, ...policy() },
    }));

    const commits = props.commits;
    if (commits) {
      const path = repositoryPath(commits.path);
      this.imageUpdateAutomation = {
        apiVersion: "image.toolkit.fluxcd.io/v1",
        kind: "ImageUpdateAutomation",
        metadata: { name: GITOPS_OBJECTS.source, namespace },
        spec: {
          interval,
          sourceRef: { kind: "GitRepository", name: GITOPS_OBJECTS.source },
          git: {
            checkout: { ref: { branch: commits.checkoutBranch } },
            commit: {
              author: { name: "Flux image automation", email: commits.authorEmail },
              messageTemplate: [
                `${namespace}: update images`,
                "",
                "{{ range .Changed.Changes }}- {{ .OldValue }} -> {{ .NewValue }}",
                "{{ end }}",
              ].join("\n"),
            },
            push: { branch: commits.pushBranch },
          },
          update: { path, strategy: "Setters" },
        },
      };
    }

    this.release = new ManifestsRelease(this, "manifests", {
      name: `${namespace}-images`,
      namespace,
      manifests: [...this.imageRepositories, ...this.imagePolicies, ...(this.imageUpdateAutomation ? [this.imageUpdateAutomation] : [])],
      dependsOn: props.dependsOn,
    });
  }
}
