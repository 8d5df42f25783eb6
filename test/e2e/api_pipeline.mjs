// api_pipeline.mjs — the checks of api_pipeline.sh that need many requests at once (fetch over
// real HTTP).  Env: API_URL, JWT_SECRET, API_BIN (signs the tokens), PIPELINES (the daemon's
// db-pipelines), PSQL_ARGV (for sql()).
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { test, finish, sql } from './harness.mjs';

const api = process.env.API_URL;
const pipelines = Number(process.env.PIPELINES);
const sign = (claims) => execFileSync(process.env.API_BIN, ['--sign-jwt', JSON.stringify(claims)],
  { env: { FREIGHT_JWT_SECRET: process.env.JWT_SECRET } }).toString().trim();
const tokens = { alice: sign({ role: 'web_user', sub: 'alice' }), bob: sign({ role: 'web_user', sub: 'bob' }) };
const auth = (who) => (tokens[who] ? { Authorization: `Bearer ${tokens[who]}` } : {});
const sees = (who, id) => (who === 'alice' ? id % 2 === 0 : who === 'bob' ? id % 2 === 1 : id <= 10);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function call(path, headers = {}, init = {}) {
  const r = await fetch(`${api}${path}`, { ...init, headers: { ...headers, ...(init.headers || {}) } });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

await test(`${pipelines} pipeline(s): 600 concurrent requests as three roles, errors and 406s among them, each get their own answer`, async () => {
  const who = ['alice', 'bob', 'anon'];
  const jobs = [];
  for (let i = 0; i < 600; i++) {
    const user = who[i % 3];
    const id = 1 + ((i * 7) % 200);
    if (i % 5 === 0) {
      jobs.push(call(`/items?id=eq.x${id}`, auth(user)).then((r) => {
        assert.equal(r.status, 400, `bad filter ${i}`);
        assert.equal(r.body.code, '22P02', `bad filter ${i}`);
      }));
    } else if (i % 7 === 0) {
      jobs.push(call(`/items?id=eq.${id}&select=id,name`, { ...auth(user), Accept: 'application/vnd.pgrst.object+json' })
        .then((r) => {
          if (sees(user, id)) assert.deepEqual([r.status, r.body], [200, { id, name: `item-${id}` }], `object ${i}`);
          else assert.deepEqual([r.status, r.body.code], [406, 'PGRST116'], `object ${i}`);
        }));
    } else {
      jobs.push(call(`/items?id=eq.${id}&select=id,name`, auth(user)).then((r) => {
        assert.equal(r.status, 200, `read ${i}`);
        assert.deepEqual(r.body, sees(user, id) ? [{ id, name: `item-${id}` }] : [], `read ${i} as ${user} of ${id}`);
      }));
    }
  }
  const outcomes = await Promise.allSettled(jobs);
  const failures = outcomes.filter((o) => o.status === 'rejected');
  assert.equal(failures.length, 0, failures.slice(0, 3).map((f) => f.reason.message).join('; '));
});

await test(`${pipelines} pipeline(s): concurrent inserts, some conflicting, commit exactly once each`, async () => {
  const base = 1000 * pipelines;
  const posts = [];
  for (let k = 0; k < 60; k++) {
    const copies = k % 6 === 0 ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      posts.push(call('/items', { ...auth('alice'), 'Content-Type': 'application/json' },
        { method: 'POST', body: JSON.stringify({ id: base + k, name: `new-${k}` }) }));
    }
  }
  const results = await Promise.all(posts);
  const created = results.filter((r) => r.status === 201).length;
  const conflicts = results.filter((r) => r.status === 409 && r.body.code === '23505').length;
  assert.deepEqual([created, conflicts], [60, 10]);
  assert.equal(sql(`SELECT count(*) || ':' || count(*) FILTER (WHERE owner = 'alice') FROM api.items WHERE id >= ${base} AND id < ${base + 60}`), '60:60');
});

await test(`${pipelines} pipeline(s): a connection killed under a request answers 503 PGRST001, the next request reconnects`, async () => {
  const slow = call('/sleepy', auth('bob'));
  let killed = '0';
  for (let i = 0; i < 50 && killed === '0'; i++) {
    await sleep(50);
    killed = sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE '%api%sleepy%' AND pid <> pg_backend_pid()");
  }
  assert.equal(killed, '1', 'the backend running the slow read was found');
  const r = await slow;
  assert.deepEqual([r.status, r.body.code], [503, 'PGRST001']);
  const after = await call('/items?id=eq.2&select=id', auth('alice'));
  assert.deepEqual([after.status, after.body], [200, [{ id: 2 }]]);
});

if (pipelines > 1) {
  await test('requests are not queued behind a slow statement while another connection is free', async () => {
    const order = [];
    const slow = call('/sleepy', auth('bob')).then((r) => { order.push('slow'); return r; });
    await sleep(200);
    const fast = [];
    for (let i = 0; i < 20; i++) {
      fast.push(call(`/items?id=eq.${2 * i + 2}&select=id`, auth('alice')).then((r) => { order.push('fast'); return r; }));
    }
    const answers = await Promise.all(fast);
    assert.ok(answers.every((r, i) => r.status === 200 && r.body[0].id === 2 * i + 2), 'every fast read answered');
    assert.equal((await slow).status, 200);
    assert.equal(order.indexOf('slow'), 20, `completion order: ${order.join(' ')}`);
  });
}

finish();
