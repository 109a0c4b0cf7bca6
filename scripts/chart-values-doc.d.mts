/** Types of chart-values-doc.mjs. */
export declare function valuesTable(schema: Record<string, unknown>): string;
export declare function withTable(readme: string, table: string): string;
