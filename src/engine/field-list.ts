/**
 * Changed fields as people read them, in one place: denials and warnings, Events and notifications,
 * the audit, explain, history and the policy test report all name a field and list fields this way.
 */

/**
 * Which field a change is, the one answer for every reader and writer: by key where it lies in an
 * item of a keyed list (v2 records), the JSON Pointer otherwise (every v1 record; "" = the whole object).
 */
export function changeField(c: { path: string; keyed?: string | undefined }): string {
  return c.path === '' ? '' : (c.keyed ?? c.path);
}

/** The label a field gets: the pointer, or `(whole object)` for CREATE and DELETE. */
export function fieldLabel(field: string): string {
  return field === '' ? '(whole object)' : field;
}

/** A change's label: `fieldLabel(changeField(c))`. */
export function changeLabel(c: { path: string; keyed?: string | undefined }): string {
  return fieldLabel(changeField(c));
}

export interface FieldListOptions {
  /** Fields shown at most (default all). */
  max?: number;
  /** Fields beyond `fields` that were not kept (a cut diff, a capped record). */
  omitted?: number;
  /**
   * How the rest reads: `count` "a, b and 3 more" (default); `unknown` "a, b and more", for a diff
   * that was cut short and so cannot say how many; `plus` "a, b +3", for a table cell.
   */
  rest?: 'count' | 'unknown' | 'plus';
}

/** `/spec/replicas, /metadata/labels/app and 2 more`: up to `max` labels and what is left. */
export function fieldList(fields: readonly string[], opts: FieldListOptions = {}): string {
  const shown = fields.slice(0, opts.max ?? fields.length).map(fieldLabel);
  const more = fields.length - shown.length + (opts.omitted ?? 0);
  const list = shown.join(', ');
  if (more <= 0) return list;
  switch (opts.rest ?? 'count') {
    case 'plus':
      return `${list} +${more}`;
    case 'unknown':
      return `${list} and more`;
    default:
      return `${list} and ${more} more`;
  }
}
