/** The shape of a list-key table (list-keys.ts compiles it; list-keys.generated.ts is one). */

/** Schema paths of keyed lists to their key fields, per kind. */
export type KindListKeys = Readonly<Record<string, readonly string[]>>;
export type ListKeyTable = Readonly<Record<string, KindListKeys>>;
