import { DefaultTokenResolver, StringConcat, Testing, TerraformStack, TerraformVariable, Token, Tokenization } from "cdktf";
import { portString } from "../constructs/common/port";
import { describe, expect, it } from "vitest";
import type { DatabaseEndpoint } from "../constructs/contract";
import { DatabaseSecret } from "../constructs/environment/database-secret";
import { environmentDomain } from "../constructs/environment/domain";
import { GitOpsDelivery } from "../constructs/environment/gitops-delivery";
import { ImageAutomation } from "../constructs/environment/image-automation";
import { NetworkPolicies } from "../constructs/environment/network-policies";
import { repositoryPath } from "../constructs/environment/repository-path";
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

/** A value as the stack writes it into Terraform JSON. */
const resolveIn = (scope: TerraformStack, value: unknown) => Tokenization.resolve(value, { scope, resolver: new DefaultTokenResolver(new StringConcat()) });

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
  const registry = { loginServer: "registry.example.com", repositories: { web: "registry.example.com/acme/web" }, fluxProvider: "generic" as const, webhookReceiver: "generic" as const };

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

describe("repository paths", () => {
  it("start with ./ whether or not the config wrote it so", () => {
    expect(repositoryPath("deploy/develop")).toBe("./deploy/develop");
    expect(repositoryPath("./deploy/develop")).toBe("./deploy/develop");
  });

  it("are written the same way by the Kustomization and the image update automation", () => {
    const delivery = new GitOpsDelivery(stack(), "gitops", { namespace: "develop", source, substitute: {}, commonLabels: {}, podLabels: {} });
    const images = new ImageAutomation(stack(), "images", {
      namespace: "develop",
      registry: { loginServer: "registry.example.com", repositories: { web: "registry.example.com/acme/web" }, fluxProvider: "generic", webhookReceiver: "generic" },
      applications: ["web"],
      tagPolicy: { kind: "timestamp" },
      commits: { path: "deploy/develop", checkoutBranch: "main", pushBranch: "main", authorEmail: "flux@example.com" },
    });
    expect((delivery.kustomization as any).spec.path).toBe("./deploy/develop");
    expect((images.imageUpdateAutomation as any).spec.update.path).toBe("./deploy/develop");
  });
});

describe("database ports", () => {
  it("are written as strings", () => {
    expect(portString(5432)).toBe("5432");
  });

  it("stay Terraform expressions when they come from another stack", () => {
    const scope = stack();
    const port = new TerraformVariable(scope, "port", { type: "number" }).numberValue;
    expect(Token.isUnresolved(portString(port))).toBe(true);
    expect(resolveIn(scope, portString(port))).toBe("${var.port}");
  });

  it("reach the database secret and the egress rule as the same string", () => {
    const scope = stack();
    const port = new TerraformVariable(scope, "port", { type: "number" }).numberValue;
    const secret = new DatabaseSecret(scope, "db", { namespace: "develop", database: { ...database, port, credentials: { remoteKey: "develop-db", username: "app" } } });
    const policies = new NetworkPolicies(scope, "policies", { namespace: "develop", databaseCidrs: database.cidrs, databasePort: port });
    const secretPort = (secret.release.manifests[1] as any).spec.target.template.data.port;
    const rulePort = resolveIn(scope, (policies.policies["allow-database"] as any).specInput.egress[0].ports[0].port);
    expect([resolveIn(scope, secretPort), rulePort]).toEqual(["${var.port}", "${var.port}"]);
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
