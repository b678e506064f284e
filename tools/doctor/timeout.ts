/** Every call the doctor makes gives up after a bound: a hung API must not hang a deploy job. */

export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${Math.round(ms / 1000)} s`);
    this.name = "TimeoutError";
  }
}

/**
 * Resolves with `work`, or rejects with a TimeoutError after `ms`. The signal
 * passed to `work` is aborted then, so that clients that take one (the AWS
 * and Azure SDKs, fetch, sockets) stop as well.
 */
export async function withTimeout<T>(what: string, ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new TimeoutError(what, ms));
    }, ms);
    timer.unref?.();
  });
  try {
    return await Promise.race([work(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** An HTTP status carried by errors of the Kubernetes, AWS and Azure clients alike. */
export function statusOf(error: unknown): number | undefined {
  const e = error as { status?: unknown; statusCode?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  for (const value of [e?.status, e?.statusCode, e?.$metadata?.httpStatusCode, e?.code]) {
    if (typeof value === "number") return value;
  }
  return undefined;
}

/** One line about an error, for the evidence column. */
export function describeError(error: unknown): string {
  const status = statusOf(error);
  const name = (error as { name?: string })?.name;
  const message = error instanceof Error ? error.message : String(error);
  const first = message.split("\n")[0].slice(0, 300);
  if (status === 401 || status === 403) return `access denied (${status}): ${first}`;
  if (name && name !== "Error" && !first.startsWith(name)) return `${name}: ${first}`;
  return first;
}

/** The next step for an error: missing permissions name the doc that lists them. */
export function nextStepFor(error: unknown, otherwise: string): string {
  const status = statusOf(error);
  const name = (error as { name?: string })?.name ?? "";
  if (status === 401 || status === 403 || /AccessDenied|AuthorizationFailed|Forbidden/i.test(name)) {
    return "give the doctor's identity the read access listed in docs/operations.md (Doctor: permissions)";
  }
  if (error instanceof TimeoutError) return `check network reach from here; ${otherwise}`;
  return otherwise;
}
