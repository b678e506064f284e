/** Frames kept of each stack trace cdktf records for a token. */
export declare const STACK_FRAMES: number;
/** The stack above the caller (or above `below`), at most STACK_FRAMES frames, formatted when read. */
export declare function captureStackTrace(below?: Function): string[];
/** Makes every check of cdktf's ValidateBinaryVersion run its command once per process, and once per binary across processes. */
export declare function checkVersionsOnce(validateBinaryVersion: Function): void;
/** A version check's result, kept in `file` for the binary `command` names as PATH finds it; run again when that file changes. */
export declare function rememberedCheck(key: string, command: string, run: () => string[], file?: string): string[];
