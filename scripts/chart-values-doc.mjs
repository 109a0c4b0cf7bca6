#!/usr/bin/env node
/**
 * The values table of charts/driftguard/README.md, generated from charts/driftguard/values.schema.json
 * (key, type, default, description), between the <!-- values:begin --> and <!-- values:end --> lines.
 *
 *   node scripts/chart-values-doc.mjs           rewrite the table
 *   node scripts/chart-values-doc.mjs --check   exit 1 when the README's table is not what the schema gives
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const chart = path.resolve(import.meta.dirname, '../charts/driftguard');
const README = path.join(chart, 'README.md');
const BEGIN = '<!-- values:begin -->';
const END = '<!-- values:end -->';

/** Rows for every leaf of the schema: objects with properties are walked, anything else is a row. */
function rows(schema, prefix = '') {
  const out = [];
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (prop.type === 'object' && prop.properties !== undefined) out.push(...rows(prop, name));
    else out.push({ name, prop });
  }
  return out;
}

const cell = (s) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const type = (p) => {
  const t = Array.isArray(p.type) ? p.type.join(' or ') : p.type;
  return p.enum !== undefined ? `${t}: ${p.enum.map((e) => `\`${e}\``).join(', ')}` : t;
};
const shown = (v) => {
  if (v === undefined) return '';
  const json = JSON.stringify(v);
  // The webhook rules and matchConditions are long: the schema's description says what they are.
  return json.length > 60 ? '(see values.yaml)' : `\`${cell(json)}\``;
};

export function valuesTable(schema) {
  const lines = ['| Key | Type | Default | Description |', '| --- | --- | --- | --- |'];
  for (const { name, prop } of rows(schema))
    lines.push(`| \`${name}\` | ${cell(type(prop))} | ${shown(prop.default)} | ${cell(prop.description ?? '')} |`);
  return lines.join('\n');
}

export function withTable(readme, table) {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${README}: no ${BEGIN} ... ${END} section`);
  return `${readme.slice(0, start + BEGIN.length)}\n${table}\n${readme.slice(end)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const schema = JSON.parse(readFileSync(path.join(chart, 'values.schema.json'), 'utf8'));
  const readme = readFileSync(README, 'utf8');
  const fresh = withTable(readme, valuesTable(schema));
  if (process.argv.includes('--check')) {
    if (fresh !== readme) {
      process.stderr.write(`${README}: the values table is stale; run node scripts/chart-values-doc.mjs\n`);
      process.exit(1);
    }
  } else writeFileSync(README, fresh);
}
