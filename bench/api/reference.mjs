// reference.mjs — what a Node server needs to answer bench/api's two endpoints the way
// freight-api does: verify the HS256 JWT, then one round trip to PostgreSQL running the same
// transaction (role, claims, request headers and READ ONLY via set_config; the query, JSON
// built by PostgreSQL) as one multi-statement query, which PostgreSQL runs as one implicit
// transaction — the best a pg client without pipelining can do.  The query is a statement
// prepared once per connection (PREPARE in the first request's round trip, EXECUTE after), so
// PostgreSQL does not plan the view again for every request: measured on this machine, 40–60%
// more requests per second than sending the query text each time, while node-pg's own
// prepared statements (BEGIN, set_config, query and COMMIT as four round trips) were slower
// than both.  Used by fastify_server.mjs and express_server.mjs.
import pg from 'pg';
import { createHmac, timingSafeEqual } from 'node:crypto';

const secret = process.env.FREIGHT_JWT_SECRET;
export const pool = new pg.Pool({
  connectionString: process.env.BENCH_DB_URI,
  max: Number(process.env.BENCH_NODE_POOL || 4),
});

// Returns the claims of a valid token, or null.
export function verifyJwt(header) {
  if (!header || !header.startsWith('Bearer ')) return null;
  const [h, p, s] = header.slice(7).split('.');
  if (!s) return null;
  const mac = createHmac('sha256', secret).update(`${h}.${p}`).digest();
  const sig = Buffer.from(s, 'base64url');
  if (sig.length !== mac.length || !timingSafeEqual(sig, mac)) return null;
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  if (claims.exp && claims.exp < Date.now() / 1000) return null;
  return claims;
}

const lit = (v) => pg.Client.prototype.escapeLiteral(String(v));

// The two read shapes the benchmark uses, ?tracking_number=eq.X and
// ?status=eq.S&order=created_at.desc&limit=N: the name, parameter types and SQL of the statement
// and this request's arguments.
const shapes = {
  one: ['text', `SELECT coalesce(json_agg(_t), '[]')::text AS body FROM (SELECT t.* FROM "api"."shipments" t WHERE t."tracking_number" = $1) _t`],
  page: ['text, int', `SELECT coalesce(json_agg(_t), '[]')::text AS body FROM (SELECT t.* FROM "api"."shipments" t WHERE t."status" = $1 ORDER BY t."created_at" DESC LIMIT $2) _t`],
};
export function shipmentsQuery(query) {
  const eq = (v) => (typeof v === 'string' && v.startsWith('eq.') ? v.slice(3) : null);
  if (query.tracking_number) return { shape: 'one', args: [eq(query.tracking_number)] };
  return { shape: 'page', args: [eq(query.status), Math.min(Number(query.limit || 50), 1000)] };
}

// headers: the request's headers (Node lower-cases their names), for request.headers.
export async function runAs(claims, path, q, headers) {
  const client = await pool.connect();
  client.prepared ??= new Set();
  const [types, sql] = shapes[q.shape];
  const prepare = client.prepared.has(q.shape) ? '' : `;PREPARE ${q.shape}(${types}) AS ${sql}`;
  const text = `SELECT set_config('search_path', '"api", "public"', true), set_config('role', ${lit(claims.role)}, true),`
    + ` set_config('request.jwt.claims', ${lit(JSON.stringify(claims))}, true), set_config('request.method', 'GET', true),`
    + ` set_config('request.path', ${lit(path)}, true), set_config('request.headers', ${lit(JSON.stringify(headers))}, true),`
    + ` set_config('request.cookies', '{}', true), set_config('transaction_read_only', 'on', true)`
    + `${prepare};EXECUTE ${q.shape}(${q.args.map(lit).join(', ')})`;
  try {
    const results = await client.query(text);
    client.prepared.add(q.shape);
    client.release();
    return results[results.length - 1].rows[0].body;
  } catch (e) {
    client.release(e);	// a failed round trip may have left the statement half made: drop the connection
    throw e;
  }
}
