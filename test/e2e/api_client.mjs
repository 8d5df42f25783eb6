// api_client.mjs — drives freight-api with the real @supabase/postgrest-js client.
// Env: API_URL (http://127.0.0.1:PORT/api), USER_TOKEN (web_user, sub alice), ADMIN_TOKEN.
// Runs against test/e2e/api_schema.sql; prints "N passed, M failed".
import { PostgrestClient } from '@supabase/postgrest-js';
import assert from 'node:assert/strict';
import { finish, test } from './harness.mjs';

const url = process.env.API_URL;
const anon = new PostgrestClient(url);
const user = new PostgrestClient(url, { headers: { Authorization: `Bearer ${process.env.USER_TOKEN}` } });
const admin = new PostgrestClient(url, { headers: { Authorization: `Bearer ${process.env.ADMIN_TOKEN}` } });

const ok = (r) => {
  if (r.error) throw new Error(`unexpected error ${JSON.stringify(r.error)}`);
  return r;
};

await test('select with eq, lt and order', async () => {
  const { data } = ok(await anon.from('shipments').select('id,status').eq('status', 'delivered').lt('id', 20).order('id'));
  assert.deepEqual(data.map((r) => r.id), [2, 6, 10, 14, 18]);
});
await test('filters: in, ilike, is null, not, or, contains, gte', async () => {
  let r = ok(await anon.from('shipments').select('id').in('tracking_number', ['IFE-000001', 'IFE-000004']).order('id'));
  assert.deepEqual(r.data.map((x) => x.id), [1, 4]);
  r = ok(await anon.from('shipments').select('id').ilike('tracking_number', '%00005%').order('id'));
  assert.deepEqual(r.data.map((x) => x.id), [5, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59]);
  r = ok(await anon.from('shipments').select('id').is('driver_id', null).lte('id', 20).order('id'));
  assert.deepEqual(r.data.map((x) => x.id), [5, 10, 15, 20]);
  r = ok(await anon.from('shipments').select('id').not('status', 'in', '(created,in_transit,delivered)').lt('id', 9).order('id'));
  assert.deepEqual(r.data.map((x) => x.id), [3, 7]);
  r = ok(await anon.from('shipments').select('id').or('id.eq.1,and(id.gt.58,status.eq.exception)').order('id'));
  assert.deepEqual(r.data.map((x) => x.id), [1, 59]);
  r = ok(await anon.from('shipments').select('id').contains('tags', ['cold']).lt('id', 10).order('id'));
  assert.deepEqual(r.data.map((x) => x.id), [3, 6, 9]);
  r = ok(await anon.from('shipments').select('id').gte('weight_kg', 590).order('id'));
  assert.deepEqual(r.data.map((x) => x.id), [59, 60]);
});
await test('json path filter and select', async () => {
  const { data } = ok(await anon.from('shipments').select('id, city:meta->>city').eq('meta->>city', 'Berlin').lt('id', 5).order('id'));
  assert.deepEqual(data, [{ id: 2, city: 'Berlin' }, { id: 4, city: 'Berlin' }]);
});
await test('embedding: to-one object and to-many array in one request', async () => {
  const { data } = ok(await anon.from('shipments').select('tracking_number, driver:drivers(name), packages(description)').eq('id', 1).single());
  assert.equal(data.driver.name, 'Bob');
  assert.deepEqual(data.packages.map((p) => p.description).sort(), ['box 10', 'box 20']);
});
await test('embedding: referenced table order and limit', async () => {
  const { data } = ok(await anon.from('drivers').select('name, shipments(id)').eq('id', 1)
    .order('id', { referencedTable: 'shipments', ascending: false }).limit(2, { referencedTable: 'shipments' }));
  assert.deepEqual(data, [{ name: 'Ada', shipments: [{ id: 57 }, { id: 54 }] }]);
});
await test('embedding: !inner with an embedded filter', async () => {
  const { data } = ok(await anon.from('shipments').select('id, drivers!inner(name)').eq('drivers.name', 'Cleo').lt('id', 9).order('id'));
  assert.deepEqual(data.map((x) => x.id), [2, 8]);
});
await test('order and range', async () => {
  const { data } = ok(await anon.from('shipments').select('id').order('id', { ascending: false }).range(0, 4));
  assert.deepEqual(data.map((x) => x.id), [60, 59, 58, 57, 56]);
});
await test('count exact with range (206)', async () => {
  const r = ok(await anon.from('shipments').select('id', { count: 'exact' }).range(10, 19));
  assert.equal(r.count, 60);
  assert.equal(r.data.length, 10);
  assert.equal(r.status, 206);
});
await test('count exact with head', async () => {
  const r = ok(await anon.from('shipments').select('*', { count: 'exact', head: true }).eq('status', 'created'));
  assert.equal(r.count, 15);
  assert.equal(r.data, null);
});
await test('single', async () => {
  const { data } = ok(await anon.from('shipments').select('id,tracking_number').eq('tracking_number', 'IFE-000003').single());
  assert.deepEqual(data, { id: 3, tracking_number: 'IFE-000003' });
});
await test('single with several rows is PGRST116', async () => {
  const r = await anon.from('shipments').select('id').lt('id', 3).single();
  assert.equal(r.error.code, 'PGRST116');
  assert.equal(r.status, 406);
});
await test('maybeSingle: none and one', async () => {
  let r = ok(await anon.from('shipments').select('id').eq('tracking_number', 'nope').maybeSingle());
  assert.equal(r.data, null);
  r = ok(await anon.from('shipments').select('id').eq('id', 7).maybeSingle());
  assert.deepEqual(r.data, { id: 7 });
});
await test('insert with select', async () => {
  const { data, status } = ok(await user.from('shipments').insert({ tracking_number: 'IFE-900001', weight_kg: 5, owner: 'alice' }).select().single());
  assert.equal(status, 201);
  assert.equal(data.tracking_number, 'IFE-900001');
  assert.equal(data.status, 'created');
  assert.ok(data.id > 60);
});
await test('bulk insert', async () => {
  const { data } = ok(await user.from('shipments').insert([
    { tracking_number: 'IFE-900002', owner: 'alice' },
    { tracking_number: 'IFE-900003', owner: 'alice', weight_kg: 7 },
  ]).select('tracking_number, weight_kg'));
  assert.deepEqual(data, [{ tracking_number: 'IFE-900002', weight_kg: null }, { tracking_number: 'IFE-900003', weight_kg: 7 }]);
});
await test('upsert (merge-duplicates on a unique column)', async () => {
  const { data } = ok(await user.from('shipments').upsert({ tracking_number: 'IFE-900001', status: 'in_transit', owner: 'alice' },
    { onConflict: 'tracking_number' }).select('tracking_number, status'));
  assert.deepEqual(data, [{ tracking_number: 'IFE-900001', status: 'in_transit' }]);
  const r = ok(await user.from('shipments').select('id', { count: 'exact', head: true }).eq('tracking_number', 'IFE-900001'));
  assert.equal(r.count, 1);
});
await test('update with select', async () => {
  const { data } = ok(await user.from('shipments').update({ status: 'delivered' }).eq('tracking_number', 'IFE-900001').select('status'));
  assert.deepEqual(data, [{ status: 'delivered' }]);
});
await test('row-level security: a user sees only own rows', async () => {
  const r = ok(await user.from('shipments').select('owner', { count: 'exact' }).neq('owner', 'alice'));
  assert.equal(r.count, 0);
  const all = ok(await user.from('shipments').select('id', { count: 'exact', head: true }));
  assert.equal(all.count, 33);
});
await test('row-level security: insert for someone else is refused (42501, 403)', async () => {
  const r = await user.from('shipments').insert({ tracking_number: 'IFE-900009', owner: 'bob' });
  assert.equal(r.error.code, '42501');
  assert.equal(r.status, 403);
});
await test('delete with select', async () => {
  const { data } = ok(await user.from('shipments').delete().eq('tracking_number', 'IFE-900002').select('tracking_number'));
  assert.deepEqual(data, [{ tracking_number: 'IFE-900002' }]);
  const r = ok(await user.from('shipments').select('id').eq('tracking_number', 'IFE-900002'));
  assert.deepEqual(r.data, []);
});
await test('rpc: scalar by POST and GET', async () => {
  assert.equal(ok(await anon.rpc('add', { a: 2, b: 3 })).data, 5);
  assert.equal(ok(await anon.rpc('add', { a: 4, b: 3 }, { get: true })).data, 7);
});
await test('rpc: set-returning function with filters and order', async () => {
  const { data } = ok(await anon.rpc('by_status', { s: 'exception' }).select('id').lt('id', 12).order('id'));
  assert.deepEqual(data.map((x) => x.id), [3, 7, 11]);
});
await test('rpc: role and claims reach the database', async () => {
  assert.equal(ok(await user.rpc('whoami')).data, 'web_user:alice');
  assert.equal(ok(await anon.rpc('whoami')).data, 'web_anon:');
});
await test('rpc: void function as admin writes, then data changed', async () => {
  const r = await admin.rpc('set_status', { tn: 'IFE-000010', st: 'exception' });
  assert.equal(r.error, null);
  assert.equal(r.status, 204);
  const { data } = ok(await anon.from('shipments').select('status').eq('tracking_number', 'IFE-000010').single());
  assert.equal(data.status, 'exception');
});
await test('csv', async () => {
  const { data } = ok(await anon.from('shipments').select('id,status,tags').lte('id', 3).order('id').csv());
  assert.equal(data, 'id,status,tags\n1,in_transit,{fragile}\n2,delivered,{fragile}\n3,exception,"{fragile,cold}"');
});
await test('errors: anonymous write is 401 with 42501', async () => {
  const r = await anon.from('shipments').insert({ tracking_number: 'IFE-999999' });
  assert.equal(r.error.code, '42501');
  assert.equal(r.status, 401);
});
await test('errors: unknown column is 400 with 42703', async () => {
  const r = await anon.from('shipments').select('nope');
  assert.equal(r.error.code, '42703');
  assert.equal(r.status, 400);
});
await test('errors: check violation is 400 and changes nothing', async () => {
  const r = await user.from('notes').insert([{ id: 50, body: 'fine' }, { id: 51, body: 'x'.repeat(300) }]);
  assert.equal(r.error.code, '23514');
  assert.equal(r.status, 400);
  const { data } = ok(await user.from('notes').select('id').eq('id', 50));
  assert.deepEqual(data, []);
});
await test('embedding through a table-to-view foreign key (notes -> shipments)', async () => {
  const { data } = ok(await anon.from('shipments').select('id, notes(body)').eq('id', 1).single());
  assert.deepEqual(data.notes.map((n) => n.body).sort(), ['first note', 'second note']);
});
await test('errors: unique violation is 409 with details', async () => {
  const r = await user.from('notes').insert({ id: 1, body: 'again' });
  assert.equal(r.error.code, '23505');
  assert.equal(r.status, 409);
  assert.equal(r.error.details, 'Key (id)=(1) already exists.');
  // with row-level security PostgreSQL leaves the key out of the details
  const s = await user.from('shipments').insert({ tracking_number: 'IFE-900003', owner: 'alice' });
  assert.equal(s.error.code, '23505');
  assert.equal(s.status, 409);
});

finish();
