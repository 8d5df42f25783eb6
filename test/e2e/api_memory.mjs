// api_memory.mjs — the checks of api_memory.sh: tens of thousands of requests, most of them bad
// (malformed filters, unknown columns, bad JWTs, invalid and oversized bodies, injection
// strings, conflicts), each answered with its own status, while the daemon's resident memory
// stays flat.  Env: API_URL, API_PID, JWT_SECRET.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { test, finish } from './harness.mjs';
import { sign } from './jwt.mjs';

const api = new URL(process.env.API_URL);
const secret = process.env.JWT_SECRET;
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${process.env.API_PID}/status`, 'utf8'))[1]);
const good = sign('hs256', secret, { role: 'web_user', sub: 'alice' });
let serial = 0;

// token: a fixed token, or a function of a per-request serial number (a new token every time)
const cases = [
  { name: 'a lookup', path: '/items?id=eq.2', token: good, status: 200 },
  { name: 'a new valid token every time', path: '/items?id=eq.2', token: (n) => sign('hs256', secret, { role: 'web_user', sub: `u${n}` }), status: 200 },
  { name: 'a bad integer', path: '/items?id=eq.x2', status: 400 },
  { name: 'an unknown column', path: '/items?nope=eq.1', status: 400 },
  { name: 'a malformed filter', path: '/items?id=zz.1', status: 400 },
  { name: 'a bad select', path: '/items?select=id,(', status: 400 },
  { name: 'an unknown embedding', path: '/items?select=*,nothing(*)', status: 400 },
  { name: 'a bad order', path: '/items?order=nope.desc', status: 400 },
  { name: 'an injection string', path: `/items?name=eq.${encodeURIComponent("x'); DROP TABLE api.items; --")}`, status: 200 },
  { name: 'an unknown function', path: '/rpc/nothing', status: 404 },
  { name: 'an unknown route', path: '/nothing/at/all', status: 404 },
  { name: 'alg none', path: '/items', token: sign('none', '', { role: 'web_user' }), status: 401 },
  { name: 'an expired token', path: '/items', token: sign('hs256', secret, { role: 'web_user', exp: '-60' }), status: 401 },
  { name: 'a token of another key', path: '/items', token: sign('hs256', `x${secret}`, { role: 'web_user' }), status: 401 },
  { name: 'a new garbage token every time', path: '/items', token: (n) => `garbage.${n}.token`, status: 401 },
  { name: 'invalid JSON', method: 'POST', path: '/items', token: good, body: '{"id": 1,', status: 400 },
  { name: 'a body over the limit', method: 'POST', path: '/items', token: good, body: `{"name":"${'x'.repeat(8192)}"}`, status: 413 },
  { name: 'a duplicate key', method: 'POST', path: '/items', token: good, body: '{"id":2,"name":"dup"}', status: 409 },
];

function request(c) {
  const n = serial++;
  const token = typeof c.token === 'function' ? c.token(n) : c.token;
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (c.body) headers['Content-Type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = http.request({ host: api.hostname, port: api.port, path: api.pathname + c.path,
      method: c.method || 'GET', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(c.body);
  });
}

// n requests, 16 at a time, through the cases in turn; returns the wrong answers by case
async function round(n) {
  const wrong = {};
  let next = 0;
  async function worker() {
    while (next < n) {
      const c = cases[next++ % cases.length];
      const status = await request(c).catch((e) => e.code);
      if (status !== c.status) wrong[c.name] = `${status} (want ${c.status})`;
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker));
  return wrong;
}

await test(`each of ${cases.length} kinds of request, 300 times, gets its own status`, async () => {
  assert.deepEqual(await round(300 * cases.length), {});
});

const before = rssKiB();
const after = [];
await test('30,000 more of them: every answer right, resident memory flat (grows < 2 MiB)', async () => {
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(await round(10000), {}, `round ${i + 1}`);
    after.push(rssKiB());
  }
  console.log(`# VmRSS: ${before} KiB after the warm-up, then ${after.join(', ')} KiB`);
  assert.ok(after[2] - before < 2048, `grew ${after[2] - before} KiB`);
});

agent.destroy();
finish();
