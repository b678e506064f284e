/** Frames kept of each stack trace cdktf records for a token. */
export declare const STACK_FRAMES: number;
/** The stack above the caller (or above `below`), at most STACK_FRAMES frames, formatted when read. */
export declare function captureStackTrace(below?: Function): string[];
/** Makes every check of cdktf's ValidateBinaryVersion run its command once per process. */
export declare function checkVersionsOnce(validateBinaryVersion: Function): void;
