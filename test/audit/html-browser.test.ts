/**
 * The HTML report in a real headless Chromium: the file is opened from disk with nothing else
 * reachable; the charts must show the numbers counted from the fixture records, the list must
 * filter, and the page must log no error (a CSP hash mismatch or a script error would).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type Browser } from '../support/browser.js';
import { cli } from '../support/cli.js';
import { fixturePath } from '../support/fixtures.js';

let browser: Browser;
const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-audit-html-'));

interface Opened {
  page: Page;
  problems: string[];
  requests: string[];
  dialogs: string[];
}

async function open(file: string): Promise<Opened> {
  const page = await browser.context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, problems, requests, dialogs };
}

async function report(name: string, args: string[]): Promise<string> {
  const out = path.join(dir, name);
  const r = await cli(['audit', ...args, '--output', 'html', '--out', out]);
  expect(r.code, r.stderr).toBe(0);
  return out;
}

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

describe('audit HTML report in Chromium', () => {
  let main: Opened;

  beforeAll(async () => {
    main = await open(await report('audit.html', [fixturePath('records', 'audit'), '--since', '2026-11-16']));
  });

  it('loads from the file alone, with no error and no other request', async () => {
    expect(await main.page.locator('#shown').textContent(), main.problems.join('; ')).toBe('showing 19 of 19');
    expect(main.problems).toEqual([]);
    expect(main.requests).toEqual([pathToFileURL(path.join(dir, 'audit.html')).href]);
    expect(await main.page.locator('#card-denied .n').textContent()).toBe('11');
    expect(await main.page.locator('#read-note').textContent()).toContain('2 malformed lines skipped');
  });

  it('draws denials over time per day, bar heights in proportion, totals on top', async () => {
    const bars = await main.page.$$eval('#chart-timeline g.bar', (gs) =>
      gs.map((g) => {
        const seg = (d: string) => {
          const r: any = g.querySelector(`rect[data-decision="${d}"]`);
          return r === null ? 0 : (r.getBBox().height as number);
        };
        return {
          start: g.getAttribute('data-start'),
          denied: Number(g.getAttribute('data-denied')),
          total: Number(g.getAttribute('data-total')),
          label: g.querySelector('text.value')?.textContent ?? '',
          deniedHeight: seg('denied'),
          totalHeight: ['denied', 'break-glass', 'warned', 'audited'].reduce((h, d) => h + seg(d), 0),
        };
      }),
    );
    expect(bars.map((b) => [b.start, b.denied, b.total, b.label])).toEqual([
      ['2026-11-16', 0, 0, ''],
      ['2026-11-17', 1, 3, '3'],
      ['2026-11-18', 3, 3, '3'],
      ['2026-11-19', 1, 3, '3'],
      ['2026-11-20', 2, 2, '2'],
      ['2026-11-21', 2, 3, '3'],
      ['2026-11-22', 1, 2, '2'],
      ['2026-11-23', 1, 3, '3'],
      ['2026-11-24', 0, 0, ''],
    ]);
    const unit = bars[2]!.deniedHeight / 3;
    expect(unit).toBeGreaterThan(10);
    for (const b of bars) {
      expect(b.deniedHeight).toBeCloseTo(b.denied * unit, 0);
      expect(b.totalHeight).toBeCloseTo(b.total * unit, 0);
    }
  });

  it('draws top actors and top objects with their counts and bar lengths in proportion', async () => {
    const rows = (id: string) =>
      main.page.$$eval(`${id} g.row`, (gs) =>
        gs.map((g) => ({
          key: g.getAttribute('data-key'),
          value: g.querySelector('text.value')?.textContent,
          width: Array.from(g.querySelectorAll('rect.seg')).reduce((w: number, r: any) => w + (r.getBBox().width as number), 0),
        })),
      );
    const actors = await rows('#chart-actors');
    expect(actors.map((a) => [a.key, a.value])).toEqual([
      ['oidc:jane@example.com', '14'],
      ['kubernetes-admin', '2'],
      ['oidc:bob@example.com', '2'],
      ['system:serviceaccount:ci:deployer', '1'],
    ]);
    expect(actors[0]!.width / actors[3]!.width).toBeCloseTo(14, 1);
    const objects = await rows('#chart-objects');
    expect(objects.map((o) => [o.key, o.value])).toEqual([
      ['Deployment prod-shop/web', '10'],
      ['Deployment staging/web', '6'],
      ['Deployment apps-team/api', '2'],
      ['Secret apps-team/db', '1'],
    ]);
    expect(objects[0]!.width / objects[1]!.width).toBeCloseTo(10 / 6, 1);
  });

  it('puts each break-glass use on the timeline in time order, with its reason', async () => {
    const uses = await main.page.$$eval('#chart-breakglass g.use', (gs) =>
      gs.map((g) => ({
        time: g.getAttribute('data-time'),
        actor: g.getAttribute('data-actor'),
        x: Number(g.querySelector('circle')!.getAttribute('cx')),
        tip: g.querySelector('title')!.textContent,
      })),
    );
    expect(uses.map((u) => [u.time, u.actor])).toEqual([
      ['2026-11-21T02:11:09.000Z', 'oidc:bob@example.com'],
      ['2026-11-22T03:47:01.000Z', 'oidc:bob@example.com'],
    ]);
    expect(uses[1]!.x).toBeGreaterThan(uses[0]!.x);
    expect(uses[0]!.tip).toContain('INC-4711 hotfix while Git is frozen');
    expect(await main.page.locator('#breakglass tbody tr').count()).toBe(2);
  });

  it('filters the list by text, by decision and by a click on a chart row', async () => {
    const { page } = main;
    const visible = () => page.locator('#list tbody tr').count();
    await page.fill('#q', 'kubernetes-admin');
    expect(await visible()).toBe(2);
    expect(await page.locator('#shown').textContent()).toBe('showing 2 of 19');
    await page.click('#clear');
    await page.selectOption('#f-decision', 'break-glass');
    expect(await visible()).toBe(2);
    expect(await page.locator('#list tbody tr[data-decision="break-glass"]').count()).toBe(2);
    await page.selectOption('#f-namespace', 'staging');
    expect(await visible()).toBe(0);
    await page.click('#clear');
    expect(await visible()).toBe(19);
    await page.click('#chart-objects g.row[data-key="Deployment staging/web"]');
    expect(await visible()).toBe(6);
    await page.fill('#q', '/spec/replicas');
    expect(await visible()).toBe(4);
    expect(main.problems).toEqual([]);
  });

  it('keeps usernames full of markup as text: nothing injected, nothing run', async () => {
    const hostile = await open(await report('hostile.html', [fixturePath('records', 'hostile')]));
    expect(await hostile.page.locator('#shown').textContent()).toBe('showing 3 of 3');
    expect(await hostile.page.title()).toBe('driftguard audit');
    expect(await hostile.page.locator('main img, body > img, #list img').count()).toBe(0);
    expect(await hostile.page.locator('script').count()).toBe(2);
    expect(hostile.dialogs).toEqual([]);
    expect(hostile.problems).toEqual([]);
    const actors = await hostile.page.$$eval('#list tbody tr td:nth-child(4)', (tds) => tds.map((td) => td.textContent));
    expect(actors).toContain('</script><script>document.title="pwned"</script>');
    expect(actors).toContain('<img src=x onerror="document.title=\'pwned\'">');
  });
});
