// api_page.mjs — the public tracking page at / in headless Chromium (Debian's /usr/bin/chromium
// driven by playwright-core): type a tracking number, press Track, see the live status change;
// the docs page at /api-docs renders the OpenAPI document an anonymous caller gets.
// Env: API_URL, PSQL_ARGV, SCREENSHOT (optional PNG path).  Prints "N passed, M failed".
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { finish, sql, test } from './harness.mjs';

const base = process.env.API_URL.replace(/\/api$/, '');

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage();
const status = page.locator('[data-testid="status"]');
await test('page has the tracking form', async () => {
  const res = await page.goto(`${base}/`);
  assert.equal(res.status(), 200);
  assert.equal(await page.locator('#tracking-input').count(), 1);
  assert.equal(await page.getByRole('button', { name: 'Track' }).count(), 1);
});
await test('Track shows the current status', async () => {
  await page.fill('#tracking-input', 'IFE-000007');
  await page.getByRole('button', { name: 'Track' }).click();
  await status.filter({ hasText: 'exception' }).waitFor({ timeout: 5000 });
});
await test('the status updates live when the shipment changes', async () => {
  sql("UPDATE private.shipments SET status = 'in_transit' WHERE tracking_number = 'IFE-000007'; SELECT pg_notify('freight_events', '0')");
  await status.filter({ hasText: 'in_transit' }).waitFor({ timeout: 5000 });
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });
});
await test('an unknown tracking number does not show a status', async () => {
  await page.fill('#tracking-input', 'IFE-nope');
  await page.getByRole('button', { name: 'Track' }).click();
  await status.filter({ hasText: 'not available' }).waitFor({ timeout: 5000 });
});
await test('the docs page lists what the anonymous role may call, from GET /api/', async () => {
  const res = await page.goto(`${base}/api-docs`);
  assert.equal(res.status(), 200);
  const spec = await (await fetch(`${base}/api/`, { headers: { Accept: 'application/openapi+json' } })).json();
  const paths = Object.keys(spec.paths).map((p) => `/api${p}`).sort();
  assert.ok(paths.length > 0, 'the anonymous document has paths');
  await page.locator('#doc h3').first().waitFor({ timeout: 5000 });
  assert.deepEqual((await page.locator('#doc h3').allTextContents()).sort(), paths);
});
await browser.close();
finish();
