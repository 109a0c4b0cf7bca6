/**
 * The report's charts as inline SVG, drawn here from the summary: the page needs no chart library
 * and no network, and the numbers in the picture are the numbers of `summarize`. Every mark carries
 * its numbers as data-* attributes and a <title> tooltip, so a reader (and a test) can check them.
 * All text is escaped: names come from requests.
 */
import type { ViolationDecision } from '../../records/record.js';
import { DECISIONS } from '../entry.js';
import type { AuditSummary, BreakGlassUse, Ranked, TimeBucket } from '../summary.js';

export const DECISION_COLORS: Record<ViolationDecision, string> = {
  denied: '#c62828',
  'break-glass': '#e65100',
  warned: '#f9a825',
  audited: '#607d8b',
};

/** Bottom to top in stacked bars, left to right in horizontal ones: denials first. */
const STACK: readonly ViolationDecision[] = ['denied', 'break-glass', 'warned', 'audited'];

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function attrs(a: Record<string, string | number>): string {
  return Object.entries(a)
    .map(([k, v]) => ` ${k}="${esc(String(v))}"`)
    .join('');
}

/** A round axis maximum and its tick step: 1, 2 or 5 times a power of ten. */
function niceScale(max: number, ticks = 4): { max: number; step: number } {
  if (max <= 0) return { max: 1, step: 1 };
  const raw = max / ticks;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  const s = Math.max(1, step);
  return { max: Math.ceil(max / s) * s, step: s };
}

function breakdown(counts: Record<ViolationDecision, number>): string {
  return DECISIONS.filter((d) => counts[d] > 0)
    .map((d) => `${counts[d]} ${d}`)
    .join(', ');
}

function countAttrs(counts: Record<ViolationDecision, number>): Record<string, number> {
  return Object.fromEntries(DECISIONS.map((d) => [`data-${d}`, counts[d]]));
}

export function legend(): string {
  return `<ul class="legend">${STACK.map((d) => `<li><span class="swatch" data-decision="${d}"></span>${d}</li>`).join('')}</ul>`;
}

function bucketLabel(b: TimeBucket, size: AuditSummary['bucket']): string {
  if (size === 'month') return b.start.slice(0, 7);
  if (size === '5m' || size === '15m' || size === 'hour') return b.start.slice(11, 16);
  return b.start.slice(5);
}

/** The bucket in words, for headings: "5 minutes", "hour", "day". */
export function bucketWords(size: AuditSummary['bucket']): string {
  return size === '5m' ? '5 minutes' : size === '15m' ? '15 minutes' : size;
}

/**
 * A label cut to `max` characters that keeps what tells names apart: the first word (the kind, as
 * in `Deployment prod/web`) and the end (the name), with an ellipsis between.
 */
function cutMiddle(s: string, max: number): string {
  if (s.length <= max) return s;
  const space = s.indexOf(' ');
  const head = space > 0 && space <= max / 3 ? s.slice(0, space + 1) : s.slice(0, Math.floor((max - 1) / 3));
  const tail = max - 1 - head.length;
  return `${head}…${s.slice(s.length - tail)}`;
}

/**
 * Labels for one chart: each cut to `max`, and where two cut labels would read the same, those
 * keep more of their end until they differ (or are whole).
 */
function distinctLabels(keys: readonly string[], max: number): string[] {
  let limit = keys.map(() => max);
  for (let round = 0; round < 200; round++) {
    const out = keys.map((k, i) => cutMiddle(k, limit[i]!));
    const seen = new Map<string, number[]>();
    out.forEach((l, i) => seen.set(l, [...(seen.get(l) ?? []), i]));
    const clash = [...seen.values()].filter((ix) => ix.length > 1 && new Set(ix.map((i) => keys[i])).size > 1).flat();
    if (clash.length === 0) return out;
    limit = limit.map((l, i) => (clash.includes(i) ? Math.min(keys[i]!.length, l + 4) : l));
  }
  return [...keys];
}

/** Violations per time bucket, stacked by decision, total above each bar. */
export function timelineChart(s: AuditSummary): string {
  const W = 1100;
  const H = 260;
  const m = { left: 44, right: 12, top: 18, bottom: 40 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const n = Math.max(1, s.timeline.length);
  const { max, step } = niceScale(Math.max(0, ...s.timeline.map((b) => b.total)));
  const y = (v: number): number => m.top + ph - (v / max) * ph;
  const slot = pw / n;
  const bw = Math.max(1, slot * 0.72);
  const parts: string[] = [];
  for (let v = 0; v <= max; v += step) {
    parts.push(`<line class="grid" x1="${m.left}" x2="${W - m.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/>`);
    parts.push(`<text class="tick" x="${m.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`);
  }
  const labelEvery = Math.ceil(n / 12);
  s.timeline.forEach((b, i) => {
    const x = m.left + i * slot + (slot - bw) / 2;
    const segs: string[] = [];
    let base = 0;
    for (const d of STACK) {
      const c = b.counts[d];
      if (c === 0) continue;
      segs.push(
        `<rect class="seg" data-decision="${d}" fill="${DECISION_COLORS[d]}" x="${x.toFixed(1)}" y="${y(base + c).toFixed(1)}" width="${bw.toFixed(1)}" height="${(y(base) - y(base + c)).toFixed(1)}"/>`,
      );
      base += c;
    }
    const label =
      b.total > 0 && n <= 62
        ? `<text class="value" x="${(x + bw / 2).toFixed(1)}" y="${(y(b.total) - 4).toFixed(1)}" text-anchor="middle">${b.total}</text>`
        : '';
    const tip = `${b.start}: ${b.total === 0 ? 'none' : breakdown(b.counts)}`;
    parts.push(
      `<g class="bar"${attrs({ 'data-start': b.start, 'data-total': b.total, ...countAttrs(b.counts) })}><title>${esc(tip)}</title>${segs.join('')}${label}</g>`,
    );
    if (i % labelEvery === 0)
      parts.push(
        `<text class="tick" x="${(x + bw / 2).toFixed(1)}" y="${H - m.bottom + 16}" text-anchor="middle">${esc(bucketLabel(b, s.bucket))}</text>`,
      );
  });
  parts.push(`<line class="axis" x1="${m.left}" x2="${W - m.right}" y1="${y(0)}" y2="${y(0)}"/>`);
  return `<svg class="chart" id="chart-timeline" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="violations per ${bucketWords(s.bucket)}, stacked by decision">${parts.join('')}</svg>`;
}

export interface HBarOptions<T extends Ranked> {
  id: string;
  /** What clicking a row filters the list by. */
  filter: 'actor' | 'object';
  /** A second line under the label (owner, actor class). */
  sub?: (r: T) => string;
}

/**
 * A label that had to stay longer than `chars` to differ from another is drawn narrower, so that
 * it still fits its `width` px column.
 */
function squeeze(label: string, chars: number, width: number): string {
  return label.length > chars ? ` textLength="${width}" lengthAdjust="spacingAndGlyphs"` : '';
}

/** Characters of a bar label that fit the label column (12 px text, 260 px). */
const LABEL_CHARS = 34;

/** Horizontal bars, one per ranked key, segments by decision, count at the end. */
export function hbarChart<T extends Ranked>(list: readonly T[], opts: HBarOptions<T>): string {
  const W = 640;
  const row = 34;
  const labelW = 270;
  const H = Math.max(1, list.length) * row + 8;
  const max = Math.max(1, ...list.map((r) => r.count));
  const pw = W - labelW - 60;
  if (list.length === 0) return `<p class="empty">No violations.</p>`;
  const labels = distinctLabels(
    list.map((r) => r.key),
    LABEL_CHARS,
  );
  const parts = list.map((r, i) => {
    const top = 4 + i * row;
    const sub = opts.sub?.(r) ?? '';
    let x = labelW;
    const segs: string[] = [];
    for (const d of STACK) {
      const c = r.counts[d];
      if (c === 0) continue;
      const w = (c / max) * pw;
      segs.push(
        `<rect class="seg" data-decision="${d}" fill="${DECISION_COLORS[d]}" x="${x.toFixed(1)}" y="${top + 6}" width="${w.toFixed(1)}" height="${row - 14}"/>`,
      );
      x += w;
    }
    const tip = `${r.key}${sub === '' ? '' : ` (${sub})`}: ${breakdown(r.counts)}`;
    return (
      `<g class="row" tabindex="0"${attrs({ 'data-key': r.key, 'data-filter': opts.filter, 'data-count': r.count, ...countAttrs(r.counts) })}>` +
      `<title>${esc(tip)}</title>` +
      `<rect class="hit" x="0" y="${top}" width="${W}" height="${row}" fill="transparent"/>` +
      `<text class="label" x="${labelW - 10}" y="${top + (sub === '' ? 21 : 15)}" text-anchor="end"${squeeze(labels[i]!, LABEL_CHARS, labelW - 14)}>${esc(labels[i]!)}</text>` +
      (sub === ''
        ? ''
        : `<text class="sub" x="${labelW - 10}" y="${top + 28}" text-anchor="end">${esc(cutMiddle(sub, LABEL_CHARS))}</text>`) +
      segs.join('') +
      `<text class="value" x="${(x + 6).toFixed(1)}" y="${top + 21}">${r.count}</text></g>`
    );
  });
  return `<svg class="chart" id="${esc(opts.id)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img">${parts.join('')}</svg>`;
}

/** Midnights (UTC) between from and to, at most about eight of them; the ends when there are none. */
function dayTicks(from: number, to: number): number[] {
  const day = 86_400_000;
  const days = Math.ceil((to - from) / day);
  const every = Math.max(1, Math.ceil(days / 8)) * day;
  const ticks: number[] = [];
  for (let t = Math.ceil(from / day) * day; t <= to; t += every) ticks.push(t);
  return ticks.length >= 2 ? ticks : [from, to];
}

/** Break-glass uses on a time axis, one lane per actor. */
export function breakGlassChart(uses: readonly BreakGlassUse[], window: { from: number; to: number }): string {
  if (uses.length === 0) return `<p class="empty">No break-glass use in this period.</p>`;
  const W = 1100;
  const lane = 30;
  const m = { left: 200, right: 50, top: 10, bottom: 30 };
  const actors = [...new Set(uses.map((u) => u.username))];
  const laneLabels = distinctLabels(actors, 28);
  const H = m.top + actors.length * lane + m.bottom;
  const from = Math.min(window.from, ...uses.map((u) => Date.parse(u.time)));
  const to = Math.max(window.to, ...uses.map((u) => Date.parse(u.time)), from + 1);
  const x = (t: number): number => m.left + ((t - from) / (to - from)) * (W - m.left - m.right);
  const parts: string[] = [];
  actors.forEach((a, i) => {
    const cy = m.top + i * lane + lane / 2;
    parts.push(`<line class="grid" x1="${m.left}" x2="${W - m.right}" y1="${cy}" y2="${cy}"/>`);
    parts.push(
      `<text class="label" x="${m.left - 10}" y="${cy + 4}" text-anchor="end"${squeeze(laneLabels[i]!, 28, m.left - 14)}><title>${esc(a)}</title>${esc(laneLabels[i]!)}</text>`,
    );
  });
  for (const u of uses) {
    const cy = m.top + actors.indexOf(u.username) * lane + lane / 2;
    const tip = `${u.time} ${u.username} (${u.policy}) on ${u.object}: ${u.reason}${u.fields.length > 0 ? ` [${u.fields.join(', ')}]` : ''}`;
    parts.push(
      `<g class="use"${attrs({ 'data-time': u.time, 'data-actor': u.username, 'data-policy': u.policy })}><title>${esc(tip)}</title>` +
        `<circle cx="${x(Date.parse(u.time)).toFixed(1)}" cy="${cy}" r="7" fill="${DECISION_COLORS['break-glass']}"/></g>`,
    );
  }
  const axisY = H - m.bottom;
  parts.push(`<line class="axis" x1="${m.left}" x2="${W - m.right}" y1="${axisY}" y2="${axisY}"/>`);
  for (const t of dayTicks(from, to)) {
    const anchor = t === from ? 'start' : t === to ? 'end' : 'middle';
    parts.push(`<line class="grid" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${m.top}" y2="${axisY}"/>`);
    parts.push(
      `<text class="tick" x="${x(t).toFixed(1)}" y="${axisY + 18}" text-anchor="${anchor}">${esc(new Date(t).toISOString().slice(0, 10))}</text>`,
    );
  }
  return `<svg class="chart" id="chart-breakglass" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img">${parts.join('')}</svg>`;
}
