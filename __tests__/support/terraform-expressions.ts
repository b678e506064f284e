/**
 * Evaluates the Terraform expressions cdktf writes for policy documents,
 * `${jsonencode({"Statement" = [...]})}`, with the attributes of the
 * resources they refer to supplied by the test (a plan cannot: ARNs are
 * unknown until apply). Only what such documents use: objects, lists,
 * strings with `${...}` interpolation, numbers, references
 * (`aws_sns_topic.<name>.arn`) and the functions `jsonencode`, `element` and
 * `split`. Anything else is an error, not a guess.
 */

export type Resolve = (reference: string) => string;

type Value = string | number | boolean | Value[] | { [key: string]: Value };

/** A synthesized attribute: a literal, or a string holding `${...}` interpolations. */
export function evaluateAttribute(text: string, resolve: Resolve): Value {
  return new Parser(text, resolve).document();
}

class Parser {
  private at = 0;
  constructor(
    private readonly source: string,
    private readonly resolve: Resolve,
  ) {}

  document(): Value {
    return this.template(() => this.at >= this.source.length);
  }

  private value(): Value {
    this.space();
    const c = this.source[this.at];
    if (c === "{") return this.object();
    if (c === "[") return this.list();
    if (c === '"') return this.string();
    if (/[0-9-]/.test(c)) return this.number();
    return this.referenceOrCall();
  }

  private object(): Value {
    this.expect("{");
    const result: Record<string, Value> = {};
    for (this.space(); this.source[this.at] !== "}"; this.space()) {
      const key = this.value();
      if (typeof key !== "string") this.fail("an object key must be a string");
      this.space();
      this.expect("=");
      result[key as string] = this.value();
      this.space();
      if (this.source[this.at] === ",") this.at++;
    }
    this.expect("}");
    return result;
  }

  private list(): Value {
    this.expect("[");
    const result: Value[] = [];
    for (this.space(); this.source[this.at] !== "]"; this.space()) {
      result.push(this.value());
      this.space();
      if (this.source[this.at] === ",") this.at++;
    }
    this.expect("]");
    return result;
  }

  /** A quoted string. */
  private string(): Value {
    this.expect('"');
    const value = this.template(() => this.source[this.at] === '"');
    this.expect('"');
    return value;
  }

  /** Literal text and `${expr}` interpolations up to `end`; a lone interpolation keeps its value's type. */
  private template(end: () => boolean): Value {
    const parts: Value[] = [];
    let literal = "";
    while (!end()) {
      if (this.at >= this.source.length) this.fail("the end of a string");
      if (this.source.startsWith("${", this.at)) {
        if (literal) parts.push(literal);
        literal = "";
        this.at += 2;
        parts.push(this.value());
        this.space();
        this.expect("}");
      } else if (this.source[this.at] === "\\") {
        literal += JSON.parse(`"${this.source.slice(this.at, this.at + 2)}"`);
        this.at += 2;
      } else {
        literal += this.source[this.at++];
      }
    }
    if (literal || parts.length === 0) parts.push(literal);
    if (parts.length === 1) return parts[0];
    return parts.map((part) => (typeof part === "string" || typeof part === "number" ? String(part) : this.fail("a collection inside a string"))).join("");
  }

  private number(): Value {
    const match = /^-?[0-9]+(\.[0-9]+)?/.exec(this.source.slice(this.at));
    if (!match) this.fail("a number");
    this.at += match![0].length;
    return Number(match![0]);
  }

  private referenceOrCall(): Value {
    const match = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*/.exec(this.source.slice(this.at));
    if (!match) this.fail("a value");
    this.at += match![0].length;
    this.space();
    if (this.source[this.at] !== "(") {
      if (match![0] === "true" || match![0] === "false") return match![0] === "true";
      return this.resolve(match![0]);
    }
    this.at++;
    const args: Value[] = [];
    for (this.space(); this.source[this.at] !== ")"; this.space()) {
      args.push(this.value());
      this.space();
      if (this.source[this.at] === ",") this.at++;
    }
    this.expect(")");
    return call(match![0], args, (message) => this.fail(message));
  }

  private space(): void {
    while (/\s/.test(this.source[this.at] ?? "")) this.at++;
  }

  private expect(token: string): void {
    if (!this.source.startsWith(token, this.at)) this.fail(`"${token}"`);
    this.at += token.length;
  }

  private fail(what: string): never {
    throw new Error(`expected ${what} at ${this.at}: ${this.source.slice(Math.max(0, this.at - 30), this.at + 30)}`);
  }
}

function call(name: string, args: Value[], fail: (message: string) => never): Value {
  switch (name) {
    case "jsonencode":
      return JSON.stringify(args[0]);
    case "split":
      return String(args[1]).split(String(args[0]));
    case "element": {
      const list = args[0] as Value[];
      return list[Number(args[1]) % list.length];
    }
    default:
      return fail(`a supported function, not ${name}`);
  }
}
