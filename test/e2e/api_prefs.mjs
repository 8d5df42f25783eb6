// api_prefs.mjs — the real @supabase/postgrest-js against freight-api for api_prefs.sh:
// maxAffected() (Prefer: handling=strict + max-affected) on update, delete and rpc, with the
// rows counted in the database before and after.  Env: API_URL, PSQL_ARGV.  Prints
// "N passed, M failed".
import { PostgrestClient } from '@supabase/postgrest-js';
import assert from 'node:assert/strict';
import { finish, sql, test } from './harness.mjs';

const client = new PostgrestClient(process.env.API_URL);
const qtys = (grp) => sql(`SELECT string_agg(qty::text, ',' ORDER BY id) FROM api.items WHERE grp = '${grp}'`);

await test('update().maxAffected() over the limit is PGRST124 and changes nothing', async () => {
  const before = qtys('b');
  const r = await client.from('items').update({ qty: 42 }).eq('grp', 'b').maxAffected(6).select();
  assert.equal(r.status, 400);
  assert.equal(r.error?.code, 'PGRST124');
  assert.equal(r.error?.details, 'The query affects 7 rows');
  assert.equal(qtys('b'), before);
});
await test('update().maxAffected() within the limit returns the rows', async () => {
  const r = await client.from('items').update({ qty: 8 }).eq('grp', 'b').maxAffected(7).select('id');
  assert.equal(r.error, null);
  assert.equal(r.data.length, 7);
  assert.equal(qtys('b'), '8,8,8,8,8,8,8');
});
await test('delete().maxAffected() over the limit deletes nothing', async () => {
  const r = await client.from('items').delete().in('id', [9, 10]).maxAffected(1);
  assert.equal(r.error?.code, 'PGRST124');
  assert.equal(sql('SELECT count(*) FROM api.items'), '10');
});
await test('delete().maxAffected() within the limit deletes', async () => {
  const r = await client.from('items').delete().eq('id', 10).maxAffected(1);
  assert.equal(r.error, null);
  assert.equal(r.status, 204);
  assert.equal(sql('SELECT count(*) FROM api.items'), '9');
});
await test('rpc().maxAffected() over the limit rolls back the function', async () => {
  const before = qtys('a');
  const r = await client.rpc('bump', { g: 'a' }).maxAffected(2);
  assert.equal(r.error?.code, 'PGRST124');
  assert.equal(qtys('a'), before);
});

finish();
