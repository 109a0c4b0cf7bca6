/** Types of serve-flags.mjs. */
export declare const SERVE_NODE_FLAGS: string[];
