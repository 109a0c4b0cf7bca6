/**
 * The HTML report with the names real clusters have — long usernames, long object names that differ
 * only at the end, deep JSON Pointers — in a real Chromium at 800 and 1400 px. Screenshots are left
 * in the test's temporary directory (its path is in the test name's output) for a person to look at.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReview } from '../../src/admission/build.js';
import { launchChromium, type Browser } from '../support/browser.js';
import { cli } from '../support/cli.js';
import { edited, object, SAMPLE_POLICIES } from '../support/fixtures.js';
import { user } from '../../src/admission/build.js';
import { judge, policies } from '../support/judge.js';

const dir = process.env.DRIFTGUARD_SCREENSHOTS ?? mkdtempSync(path.join(tmpdir(), 'driftguard-html-layout-'));
let browser: Browser;

const LONG_NS = 'prod-payments-europe-west-primary';
const NAMES = ['checkout-service-canary-blue-green-a', 'checkout-service-canary-blue-green-b', 'checkout-service-canary-blue-green-c'];
const PEOPLE = [
  'oidc:firstname.lastname-with-a-very-long-suffix@subsidiary.example-corporation.com',
  'oidc:firstname.lastname-with-a-very-long-suffix@other-subsidiary.example-corporation.com',
];
const DEEP = (o: any) => {
  o.spec.template.metadata.annotations = { 'sidecar.istio.io/proxyMemoryLimit': '512Mi' };
  o.spec.template.spec.containers[0].resources = { limits: { 'ephemeral-storage': '2Gi' } };
};

/** Violation records as the server writes them, at the given times. */
async function records(times: string[]): Promise<string> {
  const set = await policies(SAMPLE_POLICIES);
  const lines: string[] = [];
  for (const [i, t] of times.entries()) {
    const base = edited(object('deployment-prod-web'), (o) => {
      o.metadata.name = NAMES[i % NAMES.length];
      o.metadata.namespace = LONG_NS;
    });
    const review = buildReview({
      operation: 'UPDATE',
      userInfo: user(PEOPLE[i % PEOPLE.length]!, ['oidc:developers']),
      object: edited(base, DEEP),
      oldObject: base,
    });
    const r = await judge(review, set, { now: new Date(t) });
    for (const rec of r.records) lines.push(JSON.stringify(rec));
  }
  return lines.join('\n');
}

async function report(name: string, lines: string): Promise<string> {
  const src = path.join(dir, `${name}.jsonl`);
  writeFileSync(src, `${lines}\n`);
  const out = path.join(dir, `${name}.html`);
  const r = await cli(['audit', src, '-o', 'html', '--out', out]);
  expect(r.code, r.stderr).toBe(0);
  return out;
}

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

describe('HTML report layout with long names', () => {
  let shortDay: string;
  beforeAll(async () => {
    const times = Array.from({ length: 12 }, (_, i) => new Date(Date.UTC(2026, 10, 24, 9, i * 7)).toISOString());
    shortDay = await report('short-day', await records(times));
  });

  it.each([1400, 800])('at %i px: no horizontal scroll, bar labels distinct, full names on hover; screenshot', async (width) => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width, height: 900 });
    await page.goto(pathToFileURL(shortDay).href, { waitUntil: 'load' });
    // At 1400 px even the list fits: nothing scrolls sideways, not even inside its panel.
    if (width === 1400) {
      const list = await page.$eval('#list-panel .scroll', (d: any) => ({ scroll: d.scrollWidth, client: d.clientWidth }));
      expect(list.scroll).toBeLessThanOrEqual(list.client);
    }
    const { scroll, inner } = await page.evaluate(() => ({
      scroll: (globalThis as any).document.documentElement.scrollWidth,
      inner: (globalThis as any).innerWidth,
    }));
    expect(scroll).toBeLessThanOrEqual(inner);
    // No panel runs off the page.
    const overflow = await page.$$eval(
      'section.panel',
      (ps) => ps.filter((p) => p.getBoundingClientRect().right > (globalThis as any).innerWidth + 0.5).length,
    );
    expect(overflow).toBe(0);
    const labels = await page.$$eval('#chart-objects g.row', (gs) =>
      gs.map((g) => ({ label: g.querySelector('text.label')!.textContent!, title: g.querySelector('title')!.textContent! })),
    );
    expect(labels).toHaveLength(3);
    expect(new Set(labels.map((l) => l.label)).size).toBe(3);
    for (const l of labels) {
      expect(l.label.startsWith('Deployment ')).toBe(true);
      expect(l.label).toMatch(/-[abc]$/);
      expect(l.title).toContain(`Deployment ${LONG_NS}/checkout-service-canary-blue-green-`);
    }
    const actors = await page.$$eval('#chart-actors text.label', (ts) => ts.map((t) => t.textContent));
    expect(new Set(actors).size).toBe(2);
    // Every label fits the chart's label column (nothing drawn left of the SVG).
    const left = await page.$$eval('svg.chart text.label', (ts) => Math.min(...ts.map((t) => (t as any).getBBox().x)));
    expect(left).toBeGreaterThanOrEqual(0);
    await page.screenshot({ path: path.join(dir, `short-day-${width}.png`), fullPage: true });
    await page.close();
  });

  it('a short day is grouped by minutes and the chart says what it stacks', async () => {
    const page = await browser.context.newPage();
    await page.goto(pathToFileURL(shortDay).href, { waitUntil: 'load' });
    expect(await page.locator('#timeline-panel h2').textContent()).toBe('Violations over time, by 5 minutes, stacked by decision');
    const starts = await page.$$eval('#chart-timeline g.bar', (gs) => gs.map((g) => g.getAttribute('data-start')));
    expect(starts[0]).toBe('2026-11-24T09:00Z');
    expect(starts.length).toBeGreaterThan(4);
    await page.close();
  });

  it('a month is grouped by day', async () => {
    const times = Array.from({ length: 10 }, (_, i) => new Date(Date.UTC(2026, 10, 1 + i * 3, 12)).toISOString());
    const page = await browser.context.newPage();
    await page.goto(pathToFileURL(await report('month', await records(times))).href, { waitUntil: 'load' });
    expect(await page.locator('#timeline-panel h2').textContent()).toBe('Violations over time, by day, stacked by decision');
    await page.close();
  });

  it.each([1400, 800])('at %i px: JSON Pointers break only at "/", and the list has a reason column', async (width) => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width, height: 900 });
    await page.goto(pathToFileURL(shortDay).href, { waitUntil: 'load' });
    const headers = await page.$$eval('#list thead th', (ths) => ths.map((t) => t.textContent));
    expect(headers).toContain('reason');
    const reason = await page.$eval('#list tbody tr td:last-child', (td) => td.textContent);
    expect(reason).toContain('by an actor the policy does not allow');
    // Each piece between slashes is one span: it must sit on one line.
    const split = await page.$$eval('td.fields .seg', (segs) =>
      segs
        .filter((seg: any) => new Set([...seg.getClientRects()].map((c: any) => Math.round(c.top))).size > 1)
        .map((seg) => seg.textContent),
    );
    const segments = await page.$$eval('td.fields .seg', (segs) => segs.length);
    expect(segments).toBeGreaterThan(20);
    expect(split).toEqual([]);
    const wbr = await page.$$eval('td.fields wbr', (w) => w.length);
    expect(wbr).toBeGreaterThan(0);
    await page.close();
  });
});
