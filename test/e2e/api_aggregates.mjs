// api_aggregates.mjs — the real @supabase/postgrest-js against freight-api for
// api_aggregates.sh: aggregate selects as a client writes them (sum/avg/count, grouping,
// aliases, casts, inside an embed, count exact) and the PGRST123 refusal when they are off.
// Env: API_URL (aggregates on), API_URL_OFF (aggregates off).  Prints "N passed, M failed".
import { PostgrestClient } from '@supabase/postgrest-js';
import assert from 'node:assert/strict';
import { finish, test } from './harness.mjs';

const client = new PostgrestClient(process.env.API_URL);
const off = new PostgrestClient(process.env.API_URL_OFF);

await test('select("amount.sum(), amount.avg(), count()")', async () => {
  const r = await client.from('orders').select('amount.sum(), amount.avg()::int, count()');
  assert.equal(r.status, 200, JSON.stringify(r.error));
  assert.deepEqual(r.data, [{ sum: 137, avg: 27, count: 5 }]);
});
await test('grouped by status, aliased, filtered and ordered', async () => {
  const r = await client.from('orders').select('status, total:amount.sum(), n:count()')
    .neq('status', 'cancelled').order('status');
  assert.equal(r.status, 200, JSON.stringify(r.error));
  assert.deepEqual(r.data, [{ status: 'open', total: 30.75, n: 2 }, { status: 'shipped', total: 105, n: 2 }]);
});
await test('count: exact counts the groups', async () => {
  const r = await client.from('orders').select('status, count()', { count: 'exact' }).order('status').range(0, 0);
  assert.equal(r.count, 3);
  assert.deepEqual(r.data, [{ status: 'cancelled', count: 1 }]);
});
await test('inside an embed, single()', async () => {
  const r = await client.from('customers').select('name, orders(amount.max())').eq('id', 1).single();
  assert.equal(r.status, 200, JSON.stringify(r.error));
  assert.deepEqual(r.data, { name: 'ann', orders: [{ max: 20.25 }] });
});
await test('disabled: 400 PGRST123', async () => {
  const r = await off.from('orders').select('count()');
  assert.equal(r.status, 400);
  assert.equal(r.error?.code, 'PGRST123');
  assert.equal(r.error?.message, 'Use of aggregate functions is not allowed');
});
await test('unknown function: 400 PGRST100', async () => {
  const r = await client.from('orders').select('amount.median()');
  assert.equal(r.status, 400);
  assert.equal(r.error?.code, 'PGRST100');
});
finish();
