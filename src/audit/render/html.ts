/**
 * `driftguard audit --output html`: one self-contained file. Charts are inline SVG drawn from the
 * summary; the list is filtered in the page by a small script written here. Nothing is fetched when
 * the page is viewed: a Content-Security-Policy with `default-src 'none'` forbids it, and admits the
 * page's one style sheet and one script by their SHA-256 hashes only.
 *
 * Records hold text from requests (usernames, names, reasons), so every value reaches the page
 * escaped: in markup through `esc`, in the embedded data as JSON with `<` written as \u003c (no
 * `</script>` can end the block), and in the list through textContent, never innerHTML.
 */
import { createHash } from 'node:crypto';
import { DECISIONS, type AuditEntry } from '../entry.js';
import { fieldLabel } from '../../engine/field-list.js';
import type { AuditSummary } from '../summary.js';
import { breakGlassChart, bucketWords, DECISION_COLORS, esc, hbarChart, legend, timelineChart } from './svg.js';

export interface HtmlReportInput {
  summary: AuditSummary;
  /** The list, newest first; already capped by the caller. */
  entries: readonly AuditEntry[];
  /** Violations that matched in all (the list may hold fewer). */
  matched: number;
  generated: Date;
  /** The filters in words, "" for none. */
  filters: string;
  /** The window asked for, if any. */
  from?: Date;
  to?: Date;
  /** One line about what was read (files, records, malformed lines). */
  readNote: string;
}

/** A list row as the page script reads it: short keys keep a 5,000-row page small. */
interface Row {
  t: string;
  d: string;
  p: string;
  u: string;
  c: string;
  o: string;
  ob: string;
  ns: string;
  f: string[];
  w: string;
  r: string;
  /** The record's reason: why the policy judged it so. */
  why: string;
  g: string;
}

function toRow(e: AuditEntry): Row {
  return {
    t: e.time,
    d: e.decision,
    p: e.policy,
    u: e.username,
    c: e.actorClass,
    o: e.operation,
    ob: e.object,
    ns: e.namespace ?? '',
    f: e.fields.map(fieldLabel),
    w: e.ownerText,
    r: e.breakGlass?.reason ?? '',
    why: e.reason,
    g: e.groups.join(' '),
  };
}

/** JSON that can sit inside <script>: no `<` (so no `</script>` or `<!--`), no U+2028/2029. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

const STYLE = `
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; }
header { padding: 20px 28px 14px; border-bottom: 1px solid var(--line); background: var(--bg); }
h1 { margin: 0 0 4px; font-size: 20px; }
h2 { margin: 0 0 10px; font-size: 16px; }
.meta { color: var(--muted); margin: 2px 0; }
main { padding: 16px 28px 40px; max-width: 1640px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 4px 0 18px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 130px; }
.card .n { font-size: 24px; font-weight: 600; display: block; }
.card .k { color: var(--muted); }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 18px; }
section.panel { border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin-bottom: 18px; min-width: 0; }
svg.chart { max-width: 100%; height: auto; display: block; font-size: 12px; }
svg .grid { stroke: #eaeef2; }
svg .axis { stroke: #8c959f; }
svg .tick, svg .sub { fill: var(--muted); }
svg .label { fill: var(--fg); }
svg .value { fill: var(--fg); font-weight: 600; }
svg g.row { cursor: pointer; }
svg g.row:hover .hit, svg g.row:focus .hit { fill: #f3f4f6; }
.legend { list-style: none; display: flex; gap: 14px; padding: 0; margin: 0 0 8px; color: var(--muted); }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
${DECISIONS.map((d) => `.swatch[data-decision="${d}"], .pill[data-decision="${d}"] { background: ${DECISION_COLORS[d]}; }`).join('\n')}
.pill { color: #fff; border-radius: 10px; padding: 1px 8px; font-size: 12px; white-space: nowrap; }
.pill[data-decision="warned"] { color: #1f2328; }
.empty { color: var(--muted); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.nowrap { white-space: nowrap; }
td.fields { overflow-wrap: break-word; }
td.fields .seg { white-space: nowrap; }
td.wrap { overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
/* Wide enough for every column: the list fits the page (no sideways scroll); narrower, it scrolls in its panel. */
@media (min-width: 1100px) { #list { table-layout: fixed; } }
@media (max-width: 1099px) { #list td.wrap { min-width: 9em; } #list td.fields { min-width: 16em; } }
#list col.time { width: 12.5%; } #list col.decision { width: 6.5%; } #list col.policy { width: 8%; }
#list col.actor { width: 13%; } #list col.op { width: 5.5%; } #list col.object { width: 14%; }
#list col.fields { width: 22.5%; } #list col.owner { width: 8%; } #list col.reason { width: 10%; }
td.mono, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.filters { display: flex; gap: 10px; flex-wrap: wrap; align-items: center; margin-bottom: 10px; }
.filters input, .filters select, .filters button { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.filters input { min-width: 280px; }
#shown { color: var(--muted); }
`;

const SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('dg-data').textContent);
  var rows = data.rows;
  var q = document.getElementById('q');
  var selects = { d: document.getElementById('f-decision'), p: document.getElementById('f-policy'), ns: document.getElementById('f-namespace') };
  var tbody = document.querySelector('#list tbody');
  var shown = document.getElementById('shown');
  rows.forEach(function (r) {
    r.hay = [r.u, r.g, r.ob, r.p, r.w, r.r, r.why, r.o, r.f.join(' ')].join('\\n').toLowerCase();
  });
  Object.keys(selects).forEach(function (key) {
    var seen = {};
    rows.forEach(function (r) { if (r[key] !== '') seen[r[key]] = true; });
    Object.keys(seen).sort().forEach(function (v) {
      var o = document.createElement('option');
      o.value = v;
      o.textContent = v;
      selects[key].appendChild(o);
    });
  });
  function cell(tr, text, cls) {
    var td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  // A JSON Pointer may break after each '/', never inside a name.
  function pointers(td, list) {
    list.forEach(function (f, i) {
      if (i > 0) td.appendChild(document.createTextNode(', '));
      f.split('/').forEach(function (part, j) {
        if (j > 0) td.appendChild(document.createElement('wbr'));
        var seg = document.createElement('span');
        seg.className = 'seg';
        seg.textContent = (j > 0 ? '/' : '') + part;
        td.appendChild(seg);
      });
    });
  }
  function render() {
    var text = q.value.trim().toLowerCase();
    var want = { d: selects.d.value, p: selects.p.value, ns: selects.ns.value };
    var frag = document.createDocumentFragment();
    var n = 0;
    rows.forEach(function (r) {
      if (text !== '' && r.hay.indexOf(text) < 0) return;
      for (var k in want) if (want[k] !== '' && r[k] !== want[k]) return;
      n++;
      var tr = document.createElement('tr');
      tr.setAttribute('data-decision', r.d);
      cell(tr, r.t.replace('T', ' ').replace(/\\.\\d+Z$/, 'Z'), 'mono nowrap');
      var pill = document.createElement('span');
      pill.className = 'pill';
      pill.setAttribute('data-decision', r.d);
      pill.textContent = r.d;
      cell(tr, '').appendChild(pill);
      cell(tr, r.p, 'wrap');
      cell(tr, r.u, 'wrap');
      cell(tr, r.o);
      cell(tr, r.ob, 'wrap');
      pointers(cell(tr, '', 'mono fields'), r.f);
      cell(tr, r.w, 'wrap');
      cell(tr, r.r === '' ? r.why : r.why + ' (' + r.r + ')', 'wrap');
      frag.appendChild(tr);
    });
    tbody.replaceChildren(frag);
    shown.textContent = 'showing ' + n + ' of ' + rows.length;
  }
  q.addEventListener('input', render);
  Object.keys(selects).forEach(function (k) { selects[k].addEventListener('change', render); });
  document.getElementById('clear').addEventListener('click', function () {
    q.value = '';
    Object.keys(selects).forEach(function (k) { selects[k].value = ''; });
    render();
  });
  Array.prototype.forEach.call(document.querySelectorAll('[data-filter]'), function (g) {
    function pick() {
      q.value = g.getAttribute('data-key').toLowerCase();
      render();
      document.getElementById('list-panel').scrollIntoView({ behavior: 'smooth' });
    }
    g.addEventListener('click', pick);
    g.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') pick(); });
  });
  render();
})();
`;

/** A JSON Pointer, escaped, that may break after each `/` and nowhere else. */
function pointerHtml(pointer: string): string {
  return pointer
    .split('/')
    .map((part, i) => `${i === 0 ? '' : '<wbr>'}<span class="seg">${i === 0 ? '' : '/'}${esc(part)}</span>`)
    .join('');
}

/** `2026-11-23 11:18` from an RFC 3339 time. */
function shortTime(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ');
}

function card(label: string, n: number, id: string): string {
  return `<div class="card" id="${id}"><span class="n">${n}</span><span class="k">${esc(label)}</span></div>`;
}

export function htmlReport(input: HtmlReportInput): string {
  const s = input.summary;
  const range = s.first === undefined ? 'no violations' : `${shortTime(s.first)} – ${shortTime(s.last!)} UTC`;
  const window = {
    from: input.from?.getTime() ?? (s.first === undefined ? input.generated.getTime() : Date.parse(s.first)),
    to: input.to?.getTime() ?? (s.last === undefined ? input.generated.getTime() : Date.parse(s.last)),
  };
  const data = scriptJson({ rows: input.entries.map(toRow) });
  const csp = `default-src 'none'; style-src ${sha256(STYLE)}; script-src ${sha256(SCRIPT)}; img-src data:; base-uri 'none'; form-action 'none'`;
  const capped =
    input.entries.length < input.matched
      ? ` (the latest ${input.entries.length} of ${input.matched}; narrow the filters or use --output csv for all)`
      : '';
  const bgRows = s.breakGlass
    .slice()
    .reverse()
    .map(
      (b) =>
        `<tr><td class="mono nowrap">${esc(shortTime(b.time))}</td><td class="wrap">${esc(b.username)}</td><td class="wrap">${esc(b.policy)}</td><td class="wrap">${esc(b.object)}</td><td class="wrap">${esc(b.reason)}</td><td class="mono fields">${b.fields.map(pointerHtml).join(', ')}</td></tr>`,
    )
    .join('');
  const fieldRows = s.fields
    .map(
      (f) =>
        `<tr><td class="mono fields">${pointerHtml(f.key)}</td><td class="num">${f.count}</td><td class="num">${f.counts.denied}</td></tr>`,
    )
    .join('');
  const policyRows = s.policies
    .map((p) => `<tr><td>${esc(p.key)}</td>${DECISIONS.map((d) => `<td class="num">${p.counts[d]}</td>`).join('')}</tr>`)
    .join('');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="driftguard">
<title>driftguard audit</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>driftguard audit</h1>
<p class="meta" id="range">${esc(range)} · ${s.total} violations · grouped by ${esc(bucketWords(s.bucket))}</p>
<p class="meta">filters: ${esc(input.filters === '' ? 'none' : input.filters)} · generated ${esc(input.generated.toISOString())}</p>
<p class="meta" id="read-note">${esc(input.readNote)}</p>
</header>
<main>
<div class="cards">${card('violations', s.total, 'card-total')}${DECISIONS.map((d) => card(d, s.counts[d], `card-${d}`)).join('')}</div>
<section class="panel" id="timeline-panel"><h2>Violations over time, by ${esc(bucketWords(s.bucket))}, stacked by decision</h2>${legend()}${timelineChart(s)}</section>
<div class="grid2">
<section class="panel" id="actors-panel"><h2>Top actors</h2>${hbarChart(s.actors, { id: 'chart-actors', filter: 'actor', sub: (r) => r.actorClass })}</section>
<section class="panel" id="objects-panel"><h2>Top objects</h2>${hbarChart(s.objects, { id: 'chart-objects', filter: 'object', sub: (r) => r.owner })}</section>
</div>
<section class="panel" id="breakglass-panel"><h2>Break-glass timeline</h2>${breakGlassChart(s.breakGlass, window)}
${bgRows === '' ? '' : `<table id="breakglass"><thead><tr><th>time</th><th>actor</th><th>policy</th><th>object</th><th>reason</th><th>fields</th></tr></thead><tbody>${bgRows}</tbody></table>`}</section>
<div class="grid2">
<section class="panel"><h2>Top fields</h2><table id="fields"><thead><tr><th>field</th><th>count</th><th>denied</th></tr></thead><tbody>${fieldRows}</tbody></table></section>
<section class="panel"><h2>Policies</h2><table id="policies"><thead><tr><th>policy</th>${DECISIONS.map((d) => `<th>${d}</th>`).join('')}</tr></thead><tbody>${policyRows}</tbody></table></section>
</div>
<section class="panel" id="list-panel"><h2>Violations${esc(capped)}</h2>
<div class="filters">
<input id="q" type="search" placeholder="actor, object, field, policy, reason…" aria-label="search">
<select id="f-decision" aria-label="decision"><option value="">any decision</option></select>
<select id="f-policy" aria-label="policy"><option value="">any policy</option></select>
<select id="f-namespace" aria-label="namespace"><option value="">any namespace</option></select>
<button id="clear" type="button">clear</button>
<span id="shown"></span>
</div>
<div class="scroll"><table id="list"><colgroup>${['time', 'decision', 'policy', 'actor', 'op', 'object', 'fields', 'owner', 'reason'].map((c) => `<col class="${c}">`).join('')}</colgroup><thead><tr><th>time</th><th>decision</th><th>policy</th><th>actor</th><th>op</th><th>object</th><th>fields</th><th>owner</th><th>reason</th></tr></thead><tbody></tbody></table></div>
</section>
</main>
<script type="application/json" id="dg-data">${data}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
