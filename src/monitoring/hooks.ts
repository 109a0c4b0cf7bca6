/**
 * Several listeners behind one set of server hooks. Every hook any listener has is kept (also hooks
 * added to ServerHooks later); a listener that throws is logged and never felt by the request.
 */
import type { Logger } from 'pino';

type Hooks = object;

/** Function-valued keys of an object and its prototypes (hooks may be class methods). */
function hookNames(h: Hooks): string[] {
  const names = new Set<string>();
  for (let o: object | null = h; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const k of Object.getOwnPropertyNames(o)) {
      if (k !== 'constructor' && k.startsWith('on') && typeof (h as Record<string, unknown>)[k] === 'function') names.add(k);
    }
  }
  return [...names];
}

export function combineHooks<H extends Hooks>(logger: Logger, ...all: Array<H | undefined>): H {
  const present = all.filter((h): h is H => h !== undefined);
  const combined: Record<string, (info: unknown) => void> = {};
  const names = new Set(present.flatMap(hookNames));
  for (const name of names) {
    const fns = present
      .filter((h) => typeof (h as Record<string, unknown>)[name] === 'function')
      .map((h) => ((h as Record<string, (info: unknown) => void>)[name] as (info: unknown) => void).bind(h));
    combined[name] = (info: unknown) => {
      for (const fn of fns) {
        try {
          fn(info);
        } catch (err) {
          logger.error({ err, hook: name }, 'a monitoring hook failed');
        }
      }
    };
  }
  return combined as H;
}
