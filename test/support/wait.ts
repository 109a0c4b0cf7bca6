/** Bounded waits for the unit tests: poll a condition instead of sleeping a fixed time. */

/** Poll until `check` holds, or fail after `ms` naming `what`. */
export async function until(check: () => boolean, ms = 5_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Wait until `read` gives the same value (compared as JSON) twice `quietMs` apart, or fail after
 * `ms`: for a count nothing should raise any more (a retry that must not come), checked once it
 * has settled rather than after a fixed sleep.
 */
export async function steady<T>(read: () => T, quietMs = 50, ms = 5_000, what = 'the value'): Promise<T> {
  const end = Date.now() + ms;
  let last = JSON.stringify(read());
  for (;;) {
    await new Promise((r) => setTimeout(r, quietMs));
    const value = read();
    const now = JSON.stringify(value);
    if (now === last) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} to settle (last ${now})`);
    last = now;
  }
}
