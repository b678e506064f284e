import { constants, createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt, randomBytes } from "node:crypto";
import type { PlanJson } from "./destroy-guard";

/**
 * The plan a reviewer approved, carried from the review job to the deploy job
 * of the same run. A saved plan holds the prior state and every planned value
 * in clear text, sensitive ones included, and the artifacts of a run can be
 * downloaded by anyone who can read the repository (anyone at all on a public
 * one): so the plan is sealed before it is uploaded. The review job encrypts
 * with a public key (repository variable `PLAN_PUBLIC_KEY`); only the deploy
 * job, which runs in the `production` environment after the approval, holds
 * the private key (environment secret `PLAN_PRIVATE_KEY`).
 *
 * Hybrid encryption from Node's crypto: a fresh AES-256-GCM key per plan,
 * wrapped with RSA-OAEP (SHA-256); the manifest (stack, commit, run, the
 * plan's SHA-256) is the authenticated data, so it cannot be changed without
 * the key. Opening checks that the plan is the one of this stack, this commit
 * and this run.
 */

export const SEALED_FORMAT = "platform-kit/reviewed-plan";
const MIN_MODULUS_BITS = 3072;

export interface PlanManifest {
  readonly version: 1;
  readonly stack: string;
  /** The commit the plan was made from (`github.sha`). */
  readonly commit: string;
  /** The workflow run whose review job made it. */
  readonly runId: string;
  readonly runAttempt: string;
  /**
   * The plan was made against a local stand-in for a state that does not
   * exist yet (Azure, read-only identity): it cannot be applied, and the
   * deploy job plans again and applies only the same changes.
   */
  readonly standIn: boolean;
  /** SHA-256 of the saved plan file, hex; empty for a stand-in plan. */
  readonly sha256: string;
}

/** What is encrypted: the saved plan file and its changes (addresses and actions). */
interface Payload {
  readonly plan: string | null;
  readonly changes: PlanJson;
}

export interface SealedPlan {
  readonly format: typeof SEALED_FORMAT;
  readonly manifest: PlanManifest;
  /** The AES key, wrapped with the public key (RSA-OAEP, SHA-256), base64. */
  readonly key: string;
  readonly iv: string;
  readonly tag: string;
  readonly data: string;
}

const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

function rsaKey(pem: string, kind: "public" | "private") {
  if (pem.trim() === "") {
    throw new Error(
      kind === "public"
        ? "PLAN_PUBLIC_KEY is empty: production plans are sealed for the deploy job with it; set the repository variable (docs/workflows.md, 'The reviewed plan')"
        : "PLAN_PRIVATE_KEY is empty: the deploy job opens the reviewed plan with it; set the secret of the production environment (docs/workflows.md, 'The reviewed plan')",
    );
  }
  const key = kind === "public" ? createPublicKey(pem) : createPrivateKey(pem);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== "rsa" || bits < MIN_MODULUS_BITS) {
    throw new Error(`the plan ${kind} key must be an RSA key of at least ${MIN_MODULUS_BITS} bits, got ${key.asymmetricKeyType} (${bits} bits)`);
  }
  return key;
}

export function sealPlan(plan: Buffer | null, changes: PlanJson, manifest: Omit<PlanManifest, "version" | "sha256">, publicKeyPem: string): SealedPlan {
  const publicKey = rsaKey(publicKeyPem, "public");
  if ((plan === null) !== manifest.standIn) throw new Error("a stand-in plan carries no plan file, and any other plan does");
  const full: PlanManifest = { version: 1, ...manifest, sha256: plan ? sha256(plan) : "" };
  const aesKey = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", aesKey, iv);
  cipher.setAAD(Buffer.from(JSON.stringify(full)));
  const payload: Payload = { plan: plan ? plan.toString("base64") : null, changes };
  const data = Buffer.concat([cipher.update(JSON.stringify(payload)), cipher.final()]);
  const wrapped = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, aesKey);
  return {
    format: SEALED_FORMAT,
    manifest: full,
    key: wrapped.toString("base64"),
    iv: iv.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
    data: data.toString("base64"),
  };
}

export interface OpenedPlan {
  readonly manifest: PlanManifest;
  /** The saved plan file; null for a stand-in plan. */
  readonly plan: Buffer | null;
  readonly changes: PlanJson;
}

/**
 * Decrypts a sealed plan and refuses it unless it is the plan of this stack,
 * made from this commit in this run, and its file is the one whose checksum
 * the manifest records.
 */
export function openPlan(sealed: SealedPlan, privateKeyPem: string, expected: { readonly stack: string; readonly commit: string; readonly runId: string }): OpenedPlan {
  if (sealed.format !== SEALED_FORMAT) throw new Error(`not a sealed plan (format ${JSON.stringify(sealed.format)})`);
  const { manifest } = sealed;
  const mismatch = (["stack", "commit", "runId"] as const).filter((field) => manifest[field] !== expected[field]);
  if (mismatch.length > 0) {
    throw new Error(
      `the reviewed plan is not this deploy's: ${mismatch.map((field) => `${field} ${manifest[field]} (expected ${expected[field]})`).join(", ")}; re-run the workflow so that the plan is reviewed again`,
    );
  }
  const privateKey = rsaKey(privateKeyPem, "private");
  let aesKey: Buffer;
  let payload: Payload;
  try {
    aesKey = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, Buffer.from(sealed.key, "base64"));
    const decipher = createDecipheriv("aes-256-gcm", aesKey, Buffer.from(sealed.iv, "base64"));
    decipher.setAAD(Buffer.from(JSON.stringify(manifest)));
    decipher.setAuthTag(Buffer.from(sealed.tag, "base64"));
    payload = JSON.parse(Buffer.concat([decipher.update(Buffer.from(sealed.data, "base64")), decipher.final()]).toString("utf8"));
  } catch (error) {
    throw new Error(`the reviewed plan of ${manifest.stack} cannot be opened: PLAN_PRIVATE_KEY is not the key PLAN_PUBLIC_KEY belongs to, or the plan was altered (${(error as Error).message})`);
  }
  const plan = payload.plan === null ? null : Buffer.from(payload.plan, "base64");
  if ((plan === null) !== manifest.standIn || (plan !== null && sha256(plan) !== manifest.sha256)) {
    throw new Error(`the reviewed plan of ${manifest.stack} does not match its checksum ${manifest.sha256}`);
  }
  return { manifest, plan, changes: payload.changes };
}

const changeList = (plan: PlanJson): string[] =>
  (plan.resource_changes ?? [])
    .filter((change) => change.mode === "managed" && !(change.change.actions.length === 1 && change.change.actions[0] === "no-op"))
    .map((change) => `${change.address}: ${change.change.actions.join(",")}`)
    .sort();

/**
 * The differences between the changes a reviewer saw and those of a new
 * plan, by address and action; empty when they are the same. Used where the
 * reviewed plan itself cannot be applied (a stack without state on Azure).
 */
export function changeDifferences(reviewed: PlanJson, fresh: PlanJson): string[] {
  const before = new Set(changeList(reviewed));
  const after = new Set(changeList(fresh));
  return [
    ...[...before].filter((change) => !after.has(change)).map((change) => `reviewed, not in the new plan: ${change}`),
    ...[...after].filter((change) => !before.has(change)).map((change) => `in the new plan, not reviewed: ${change}`),
  ];
}
