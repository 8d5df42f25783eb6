// api_sse.mjs — server-sent events of freight-api with the npm eventsource client.
// Env: API_URL, ADMIN_TOKEN, PSQL (a command line that runs one SQL string given as last arg).
// Prints "N passed, M failed".
import EventSource from 'eventsource';
import assert from 'node:assert/strict';
import { finish, sql, test } from './harness.mjs';

const url = process.env.API_URL;
const auth = { Authorization: `Bearer ${process.env.ADMIN_TOKEN}` };

// Collects events of the given names until `count` arrived or the timeout passed.
function collect(es, names, count, ms = 5000) {
  return new Promise((resolve, reject) => {
    const got = [];
    const timer = setTimeout(() => reject(new Error(`timeout: got ${JSON.stringify(got)}`)), ms);
    for (const n of names) {
      es.addEventListener(n, (ev) => {
        got.push({ type: n, id: ev.lastEventId, data: JSON.parse(ev.data) });
        if (got.length >= count) {
          clearTimeout(timer);
          resolve(got);
        }
      });
    }
  });
}
const opened = (es) => new Promise((resolve, reject) => {
  es.onopen = resolve;
  es.onerror = (e) => reject(new Error(`stream error ${e && (e.status || e.message)}`));
});

let firstId;
await test('events stream: live events filtered by type', async () => {
  const es = new EventSource(`${url}/events/stream?type=shipment.*`, { headers: auth });
  await opened(es);
  const wait = collect(es, ['shipment.updated', 'invoice.created'], 2);
  sql("SELECT freight.emit('invoice.created', 'INV-1')");
  const id1 = sql("SELECT freight.emit('shipment.updated', 'IFE-000001')");
  const id2 = sql("SELECT freight.emit('shipment.updated', 'IFE-000002')");
  const got = await wait;
  es.close();
  assert.deepEqual(got.map((e) => e.type), ['shipment.updated', 'shipment.updated']);
  assert.deepEqual(got.map((e) => e.id), [id1, id2]);
  assert.equal(got[0].data.specversion, '1.0');
  assert.equal(got[0].data.subject, 'IFE-000001');
  firstId = id1;
});
await test('events stream: Last-Event-ID resumes after that event', async () => {
  const es = new EventSource(`${url}/events/stream?type=shipment.*`, { headers: { ...auth, 'Last-Event-ID': firstId } });
  const got = await collect(es, ['shipment.updated'], 1);
  es.close();
  assert.equal(got[0].data.subject, 'IFE-000002');
});
await test('shipment stream: current status, then each change', async () => {
  const es = new EventSource(`${url}/shipments/IFE-000005/stream`);
  const first = await collect(es, ['status'], 1);
  assert.equal(first[0].data.status, 'in_transit');
  const next = collect(es, ['status'], 1);
  sql("UPDATE private.shipments SET status = 'delivered' WHERE tracking_number = 'IFE-000005'; SELECT pg_notify('freight_events', '0')");
  const got = await next;
  es.close();
  assert.equal(got[0].data.status, 'delivered');
});
await test('heartbeats keep an idle stream alive', async () => {
  const ctl = new AbortController();
  const res = await fetch(`${url}/events/stream`, { headers: auth, signal: ctl.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const reader = res.body.getReader();
  let text = '';
  const deadline = Date.now() + 3000;
  while (!text.includes(': heartbeat') && Date.now() < deadline) {
    const { value } = await reader.read();
    text += new TextDecoder().decode(value);
  }
  ctl.abort();
  assert.match(text, /: heartbeat/);
});
await test('a role that may not read events gets an error event', async () => {
  const ctl = new AbortController();
  const res = await fetch(`${url}/events/stream`, { signal: ctl.signal });
  const reader = res.body.getReader();
  const { value } = await reader.read();
  ctl.abort();
  const text = new TextDecoder().decode(value);
  assert.match(text, /event: error/);
  assert.match(text, /42501/);
});
await test('an unknown shipment gets an error event and the stream ends', async () => {
  const res = await fetch(`${url}/shipments/IFE-none/stream`);
  const text = await res.text();
  assert.match(text, /event: error/);
  assert.match(text, /shipment not found/);
});
await test('a bad Last-Event-ID is a 400', async () => {
  const res = await fetch(`${url}/events/stream`, { headers: { ...auth, 'Last-Event-ID': "1; DROP TABLE x" } });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).code, 'PGRST100');
});

finish();
