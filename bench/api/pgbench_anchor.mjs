// pgbench_anchor.mjs — the database's own ceiling for the work one freight-api request does:
// takes the statement freight-api logged (log-sql) for a request and runs exactly that
// transaction with pgbench -M prepared in one pipeline (BEGIN READ ONLY; set_config of role,
// claims, method, path; the statement with the same parameters; COMMIT).
//   node pgbench_anchor.mjs SQL_LOG_LINE_FILE PGBENCH CONNINFO CLIENTS SECONDS WORKDIR
// Prints one JSON line: {"tps":..,"p50_ms":..,"p99_ms":..}.
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const [logFile, pgbench, conninfo, clients, seconds, work] = process.argv.slice(2);
const entry = JSON.parse(readFileSync(logFile, 'utf8').trim().split('\n').pop());
const vars = [];
const def = (name, value) => { vars.push('-D', `${name}=${value}`); return `:${name}`; };
const setup = entry.setup.map((v, i) => def(`s${i + 1}`, v));
const sql = entry.sql.replace(/\$(\d+)/g, (_, n) => def(`p${n}`, entry.params[Number(n) - 1]));
// pgbench 15 cannot prepare statements inside a pipeline, so each client runs its first
// transaction outside one (preparing every statement) and all later ones pipelined.
vars.push('-D', 'piped=0');
const script = [
  '\\if :piped',
  '\\startpipeline',
  '\\endif',
  'BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;',
  `SELECT set_config('search_path', ${setup[0]}, true), set_config('role', ${setup[1]}, true), set_config('request.jwt.claims', ${setup[2]}, true), set_config('request.method', ${setup[3]}, true), set_config('request.path', ${setup[4]}, true);`,
  `${sql};`,
  'COMMIT;',
  '\\if :piped',
  '\\endpipeline',
  '\\endif',
  '\\set piped 1',
  '',
].join('\n');
const scriptFile = join(work, 'anchor.sql');
writeFileSync(scriptFile, script);
const args = ['-n', '-M', 'prepared', '-c', clients, '-j', '2', '-T', seconds, '-l', '--log-prefix', join(work, 'pgbench_log'),
  '-f', scriptFile, ...vars, conninfo];
const r = spawnSync(pgbench, args, { cwd: work, encoding: 'utf8' });
const tps = /tps = ([\d.]+)/.exec(r.stdout);
if (r.status !== 0 || !tps) {
  console.error(r.stdout, r.stderr);
  process.exit(1);
}
const lat = [];
for (const f of readdirSync(work).filter((x) => x.startsWith('pgbench_log'))) {
  for (const line of readFileSync(join(work, f), 'utf8').split('\n')) {
    const cols = line.split(' ');
    if (cols.length > 2) lat.push(Number(cols[2]) / 1000);
  }
}
lat.sort((a, b) => a - b);
const pct = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))];
console.log(JSON.stringify({ tps: Number(tps[1]), p50_ms: pct(0.5), p99_ms: pct(0.99) }));
