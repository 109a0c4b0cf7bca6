/**
 * The caller's server hooks plus listeners (metrics, Events, notifications) behind one set of
 * hooks. Every hook name any of them has is kept (also hooks added to ServerHooks later).
 * Listeners run first, each isolated: one that throws is logged and never felt by the request. The
 * caller's hook runs last and keeps its own contract: what it throws propagates as before.
 */
import type { Logger } from 'pino';

type Hooks = object;
type Hook = (info: unknown) => void;

/** Function-valued `on*` keys of an object and its prototypes (hooks may be class methods). */
function hookNames(h: Hooks): string[] {
  const names = new Set<string>();
  for (let o: object | null = h; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const k of Object.getOwnPropertyNames(o)) {
      if (k.startsWith('on') && typeof (h as Record<string, unknown>)[k] === 'function') names.add(k);
    }
  }
  return [...names];
}

function hookOf(h: Hooks | undefined, name: string): Hook | undefined {
  const f = (h as Record<string, unknown> | undefined)?.[name];
  return typeof f === 'function' ? (f as Hook).bind(h) : undefined;
}

export function withListeners<H extends Hooks>(logger: Logger, caller: H | undefined, ...listeners: H[]): H {
  const combined: Record<string, Hook> = {};
  const names = new Set([...(caller === undefined ? [] : hookNames(caller)), ...listeners.flatMap(hookNames)]);
  for (const name of names) {
    const isolated = listeners.map((l) => hookOf(l, name)).filter((f): f is Hook => f !== undefined);
    const last = hookOf(caller, name);
    combined[name] = (info: unknown) => {
      for (const fn of isolated) {
        try {
          fn(info);
        } catch (err) {
          logger.error({ err, hook: name }, 'a monitoring listener failed');
        }
      }
      last?.(info);
    };
  }
  return combined as H;
}
