/** Kubernetes label selectors (matchLabels and matchExpressions), compiled once. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

type Labels = Readonly<Record<string, string>>;

export interface CompiledSelector {
  /** Undefined when the labels match, else the first requirement that failed, for explanations. */
  mismatch(labels: Labels): string | undefined;
}

export function compileSelector(selector: LabelSelector): CompiledSelector {
  const reqs: Array<{ text: string; test: (l: Labels) => boolean }> = [];
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    reqs.push({ text: `${k}=${v}`, test: (l) => Object.hasOwn(l, k) && l[k] === v });
  }
  for (const e of selector.matchExpressions ?? []) {
    const values = new Set(e.values ?? []);
    const k = e.key;
    const list = [...values].join(',');
    switch (e.operator) {
      case 'In':
        reqs.push({ text: `${k} in (${list})`, test: (l) => Object.hasOwn(l, k) && values.has(l[k]!) });
        break;
      case 'NotIn':
        reqs.push({ text: `${k} notin (${list})`, test: (l) => !Object.hasOwn(l, k) || !values.has(l[k]!) });
        break;
      case 'Exists':
        reqs.push({ text: `${k} exists`, test: (l) => Object.hasOwn(l, k) });
        break;
      case 'DoesNotExist':
        reqs.push({ text: `!${k}`, test: (l) => !Object.hasOwn(l, k) });
        break;
    }
  }
  return {
    mismatch(labels) {
      for (const r of reqs) if (!r.test(labels)) return r.text;
      return undefined;
    },
  };
}
