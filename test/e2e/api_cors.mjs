// api_cors.mjs — CORS as a browser enforces it: headless Chromium (Debian's /usr/bin/chromium
// driven by playwright-core) loads a page from PAGE_PORT, the one origin freight-api allows, and
// one from OTHER_PORT; each fetches API_URL/items with a bearer token (so the browser sends a
// preflight first).  Env: API_URL, TOKEN, PAGE_PORT, OTHER_PORT.  Prints "N passed, M failed".
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import http from 'node:http';
import { finish, test } from './harness.mjs';

const { API_URL, TOKEN, PAGE_PORT, OTHER_PORT } = process.env;
const serve = (port) => new Promise((resolve) => {
  const s = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>partner app</title>');
  });
  s.listen(Number(port), '127.0.0.1', () => resolve(s));
});
const servers = [await serve(PAGE_PORT), await serve(OTHER_PORT)];

// fetchFrom(port): the page at that origin fetches the API; its outcome as the page sees it
async function fetchFrom(page, port) {
  await page.goto(`http://127.0.0.1:${port}/`);
  return page.evaluate(async ({ url, token }) => {
    try {
      const r = await fetch(`${url}/items?order=id`, {
        headers: { Authorization: `Bearer ${token}`, Prefer: 'count=exact' },
      });
      return { status: r.status, range: r.headers.get('Content-Range'), body: await r.json() };
    } catch (e) {
      return { error: e.name };
    }
  }, { url: API_URL, token: TOKEN });
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage();
await test('a page from the allowed origin reads the API with a token (after a preflight)', async () => {
  const got = await fetchFrom(page, PAGE_PORT);
  assert.equal(got.status, 200, JSON.stringify(got));
  assert.deepEqual(got.body.map((i) => i.name), ['pallet', 'crate']);
  assert.equal(got.range, '0-1/2', 'Content-Range is exposed to the page');
});
await test('a page from another origin is refused by the browser', async () => {
  const got = await fetchFrom(page, OTHER_PORT);
  assert.equal(got.error, 'TypeError', JSON.stringify(got));
});
await browser.close();
for (const s of servers) s.close();
finish();
