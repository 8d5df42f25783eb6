// api_grammar.mjs — the real @supabase/postgrest-js against freight-api for the grammar of
// api_grammar.sh: insert with defaultToNull: false (Prefer: missing=default, columns=),
// count 'planned' and 'estimated', many-to-many embedding (with !inner and referenced-table
// order), and a handling=strict header.  Env: API_URL, USER_TOKEN.  Prints "N passed, M failed".
import { PostgrestClient } from '@supabase/postgrest-js';
import assert from 'node:assert/strict';
import { finish, test } from './harness.mjs';

const url = process.env.API_URL;
const anon = new PostgrestClient(url);
const user = new PostgrestClient(url, { headers: { Authorization: `Bearer ${process.env.USER_TOKEN}` } });

const ok = (r) => {
  if (r.error) throw new Error(`unexpected error ${JSON.stringify(r.error)}`);
  return r;
};

await test('insert with defaultToNull: false gives absent columns their DEFAULT', async () => {
  const { data, status } = ok(await user.from('items')
    .insert([{ id: 100, name: 'js-a' }, { id: 101, name: 'js-b', qty: 1, note: null }], { defaultToNull: false })
    .select('id, qty, note').order('id'));
  assert.equal(status, 201);
  assert.deepEqual(data, [{ id: 100, qty: 7, note: 'none' }, { id: 101, qty: 1, note: null }]);
});
await test('insert with defaultToNull (the default) sends null for absent columns', async () => {
  const r = await user.from('items').insert([{ id: 102, name: 'js-c' }, { id: 103, name: 'js-d', qty: 2 }]);
  assert.equal(r.error?.code, '23502');
  const { count } = ok(await user.from('items').select('*', { count: 'exact', head: true }).in('id', [102, 103]));
  assert.equal(count, 0);
});
await test("count 'planned' is the planner's estimate", async () => {
  const r = ok(await anon.from('big').select('id', { count: 'planned' }).range(0, 9));
  assert.equal(r.count, 5000);
  assert.equal(r.status, 206);
  assert.equal(r.data.length, 10);
});
await test("count 'planned' with head and a filter", async () => {
  const r = ok(await anon.from('big').select('*', { count: 'planned', head: true }).lt('grp', 3));
  assert.ok(r.count > 1200 && r.count < 1800, `estimate ${r.count}`);
  assert.equal(r.data, null);
});
await test("count 'estimated': exact below db-max-rows, planned above", async () => {
  let r = ok(await anon.from('big').select('id', { count: 'estimated' }).eq('grp', 2).lt('id', 500).limit(1));
  assert.equal(r.count, 50);
  r = ok(await anon.from('big').select('id', { count: 'estimated' }).limit(1));
  assert.equal(r.count, 5000);
});
await test('many-to-many embedding through the junction table', async () => {
  const { data } = ok(await anon.from('films').select('title, actors(name)').order('id')
    .order('name', { referencedTable: 'actors' }));
  assert.deepEqual(data, [
    { title: 'Alien', actors: [{ name: 'Holm' }, { name: 'Weaver' }] },
    { title: 'Heat', actors: [{ name: 'De Niro' }, { name: 'Pacino' }] },
    { title: 'Solaris', actors: [] },
  ]);
});
await test('many-to-many with !inner and a filter on the far side', async () => {
  const { data } = ok(await anon.from('actors').select('name, films!inner(title)').eq('films.title', 'Heat').order('name'));
  assert.deepEqual(data, [{ name: 'De Niro', films: [{ title: 'Heat' }] }, { name: 'Pacino', films: [{ title: 'Heat' }] }]);
});
await test('many-to-many single() with limit on the embed', async () => {
  const { data } = ok(await anon.from('films').select('id, actors(id)').eq('id', 1)
    .order('id', { referencedTable: 'actors', ascending: false }).limit(1, { referencedTable: 'actors' }).single());
  assert.deepEqual(data, { id: 1, actors: [{ id: 13 }] });
});
await test('handling=strict with a bad preference is PGRST122', async () => {
  const strict = new PostgrestClient(url, { headers: { Prefer: 'handling=strict, count=approximately' } });
  const r = await strict.from('films').select('id');
  assert.equal(r.status, 400);
  assert.equal(r.error?.code, 'PGRST122');
});

finish();
