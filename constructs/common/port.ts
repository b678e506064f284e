import { Token } from "cdktf";

/**
 * A port as the Kubernetes provider and Secret data take it: a string. A port
 * that is a Terraform token (another stack's output) stays a token, encoded as
 * a string so that it resolves to the number at apply.
 */
export function portString(port: number): string {
  return Token.isUnresolved(port) ? Token.asString(port) : String(port);
}
