/** Frames kept of each stack trace cdktf records for a token. */
export declare const STACK_FRAMES: number;
/** The stack above the caller (or above `below`), at most STACK_FRAMES frames. */
export declare function captureStackTrace(below?: Function): string[];
/** Replaces cdktf's capture in the running process. */
export declare function installShortStackTraces(): void;
