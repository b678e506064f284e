import { Testing, TerraformStack } from "cdktf";
import { describe, expect, it } from "vitest";
import type { DatabaseEndpoint } from "../constructs/contract";
import { DatabaseSecret } from "../constructs/environment/database-secret";
import { environmentDomain } from "../constructs/environment/domain";
import { GitOpsDelivery } from "../constructs/environment/gitops-delivery";
import { ImageAutomation } from "../constructs/environment/image-automation";
import { imageVariable } from "../stacks/environment-stack";

const database: DatabaseEndpoint = {
  host: "db.internal",
  port: 5432,
  database: "app",
  credentials: { remoteKey: "develop-db" },
  cidrs: ["10.0.0.0/24"],
  applicationIdentity: { serviceAccountAnnotations: {}, podLabels: {} },
  secretStore: { fake: {} },
};

const source = { url: "https://git.example.com/deploy.git", branch: "main", secretName: "gitops-auth", path: "deploy/develop", interval: "1m" };

function stack(): TerraformStack {
  return new TerraformStack(Testing.app(), "test");
}

describe("DatabaseSecret", () => {
  it("refuses credentials that name no user", () => {
    expect(() => new DatabaseSecret(stack(), "db", { namespace: "develop", database })).toThrow(
      "test/db: the database credentials name neither usernameProperty nor username",
    );
  });

  it("takes a fixed user name as a template literal and the whole remote value as the password", () => {
    const secret = new DatabaseSecret(stack(), "db", { namespace: "develop", database: { ...database, credentials: { remoteKey: "develop-db", username: "platform_admin" } } });
    const external = secret.release.manifests[1] as any;
    expect(external.spec.target.template.data.user).toBe("platform_admin");
    expect(external.spec.data).toEqual([{ secretKey: "password", remoteRef: { key: "develop-db" } }]);
  });

  it("reads user and password properties of a JSON secret", () => {
    const secret = new DatabaseSecret(stack(), "db", {
      namespace: "develop",
      database: { ...database, credentials: { remoteKey: "arn:db", usernameProperty: "username", passwordProperty: "password" } },
    });
    const external = secret.release.manifests[1] as any;
    expect(external.spec.target.template.data.user).toBe("{{ .user }}");
    expect(external.spec.data).toEqual([
      { secretKey: "user", remoteRef: { key: "arn:db", property: "username" } },
      { secretKey: "password", remoteRef: { key: "arn:db", property: "password" } },
    ]);
  });
});

describe("GitOpsDelivery", () => {
  it("refuses a substitution variable Flux cannot expand", () => {
    const props = { namespace: "develop", source, substitute: { "MIN-SCALE": "0" }, commonLabels: {}, podLabels: {} };
    expect(() => new GitOpsDelivery(stack(), "gitops", props)).toThrow("test/gitops: 'MIN-SCALE' is not a Flux substitution variable name");
  });

  it("refuses a substitution value that is not a string", () => {
    const props = { namespace: "develop", source, substitute: { KNATIVE_MIN_SCALE: 0 as unknown as string }, commonLabels: {}, podLabels: {} };
    expect(() => new GitOpsDelivery(stack(), "gitops", props)).toThrow("test/gitops: substitution KNATIVE_MIN_SCALE must be a string, got number");
  });

  it("keeps a path that already starts with ./", () => {
    const delivery = new GitOpsDelivery(stack(), "gitops", { namespace: "develop", source: { ...source, path: "./clusters/dev" }, substitute: {}, commonLabels: {}, podLabels: {} });
    expect((delivery.kustomization as any).spec.path).toBe("./clusters/dev");
  });
});

describe("ImageAutomation", () => {
  const registry = { loginServer: "registry.example.com", repositories: { web: "registry.example.com/acme/web" }, fluxProvider: "generic" as const };

  it("refuses an application the registry has no repository for", () => {
    expect(() => new ImageAutomation(stack(), "images", { namespace: "develop", registry, applications: ["web", "api"], tagPolicy: { kind: "timestamp" } })).toThrow(
      "test/images: the registry has no repository for api",
    );
  });

  it("reports tags without committing them when no commits are configured", () => {
    const images = new ImageAutomation(stack(), "images", { namespace: "production", registry, applications: ["web"], tagPolicy: { kind: "semver", range: "^1.0.0" } });
    expect(images.imageUpdateAutomation).toBeUndefined();
    expect(images.release.manifests.map((m) => m.kind)).toEqual(["ImageRepository", "ImagePolicy"]);
  });
});

describe("environment names", () => {
  it("puts production on the base domain only when configured", () => {
    expect(environmentDomain({ base: "apps.example.com", productionOnBase: true }, { name: "production", stage: "production" })).toBe("apps.example.com");
    expect(environmentDomain({ base: "apps.example.com", productionOnBase: false }, { name: "production", stage: "production" })).toBe("production.apps.example.com");
    expect(environmentDomain({ base: "apps.example.com", productionOnBase: true }, { name: "qa", stage: "staging" })).toBe("qa.apps.example.com");
  });

  it("turns application names into Flux variable names", () => {
    expect(imageVariable("billing-api")).toBe("IMAGE_BILLING_API");
  });
});
