// harness.mjs — what the end-to-end scripts share: test(name, fn) runs one async check and prints
// ok / not ok, finish() prints the "N passed, M failed" line test/run_all.sh reads and exits
// non-zero on a failure, sql(q) runs one statement through psql (argv in env PSQL_ARGV, JSON).
import { execFileSync } from 'node:child_process';

let passed = 0;
let failed = 0;

export async function test(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e && e.message}`);
  }
}

export function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

export function sql(q) {
  const argv = JSON.parse(process.env.PSQL_ARGV);
  return execFileSync(argv[0], [...argv.slice(1), '-tAc', q]).toString().trim();
}
