// pgbench_anchor.mjs — the database's own ceiling for the work one freight-api request does:
// takes the transaction freight-api logged (log-sql: its statements, their parameters and where
// the Syncs go) for a request and runs exactly that with pgbench -M prepared, pipelined like
// freight-api (one pipeline per Sync-ended segment: an implicit transaction each).
//   node pgbench_anchor.mjs SQL_LOG_LINE_FILE PGBENCH CONNINFO CLIENTS SECONDS WORKDIR
// Prints one JSON line: {"tps":..,"p50_ms":..,"p99_ms":..}.
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const [logFile, pgbench, conninfo, clients, seconds, work] = process.argv.slice(2);
const entry = JSON.parse(readFileSync(logFile, 'utf8').trim().split('\n').pop());
const vars = [];
const def = (name, value) => { vars.push('-D', `${name}=${value}`); return `:${name}`; };
// pgbench 15 cannot prepare statements inside a pipeline, so each client runs its first
// transaction outside one (preparing every statement; BEGIN ... COMMIT stand in for the
// implicit transaction) and all later ones pipelined.
vars.push('-D', 'piped=0');
const script = ['\\if :piped', '\\startpipeline', '\\else', 'BEGIN;', '\\endif'];
const end = ['\\if :piped', '\\endpipeline', '\\else', 'COMMIT;', '\\endif'];
entry.tx.forEach((st, i) => {
  script.push(st.sql.replace(/\$(\d+)/g, (_, n) => def(`s${i}p${n}`, st.params[Number(n) - 1])) + ';');
  if (st.sync && i < entry.tx.length - 1) script.push(...end, '\\if :piped', '\\startpipeline', '\\else', 'BEGIN;', '\\endif');
});
script.push(...end, '\\set piped 1', '');
const scriptFile = join(work, 'anchor.sql');
writeFileSync(scriptFile, script.join('\n'));
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
