/**
 * The zod every schema of src/ is written with: zod/mini, with English messages. zod/mini is zod's
 * functional API (`z.optional(s)`, `s.check(z.minLength(1))`) over the same core as the classic one
 * (`s.optional()`, `s.min(1)`): the same parsing, issues and JSON Schema, without the classic API's
 * modules, which the bundle evaluated at every start (about 20 ms of it: docs/performance.md,
 * "Fourth round"). Unlike the classic API it loads no locale by itself, so this module sets the
 * English one, as `import 'zod'` would.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

z.config(en());

export { z };
