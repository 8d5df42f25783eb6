#!/usr/bin/env node
'use strict';
/*
 * bench/forecast/report.js — scores the forecast CSVs that run.sh wrote with the M4 scorer
 * (../shared/bench-data/forecast/m4_score.js, used as a module) and prints them beside the
 * published M4 values.
 *
 *   node report.js DATA_DIR OUT_DIR
 *
 * OUT_DIR holds <Freq>-<method>-{point,lower,upper}.csv and timings.tsv
 * (freq, method, sessions, series, wall-clock seconds, CPU seconds of the backend or empty).
 */
const fs = require('fs');
const path = require('path');

const [dataDir, outDir] = process.argv.slice(2);
const m4 = require(path.resolve(dataDir, 'm4_score.js'));

function readCsv(file) {
  return fs.readFileSync(file, 'utf8').split(/\r?\n/).slice(1).filter(Boolean)
    .map((line) => line.split(',').map((f) => f.replace(/^"|"$/g, '')));
}

// Published rows: method_id -> frequency -> {smape, mase, owa} / {msis, acd}
function published(file, fields) {
  const table = {};
  for (const row of readCsv(file)) {
    const id = row[0];
    const freq = row[row.length - fields.length - 1];
    const values = row.slice(row.length - fields.length).map(Number);
    table[id] = table[id] || {};
    table[id][freq] = Object.fromEntries(fields.map((f, i) => [f, values[i]]));
  }
  return table;
}
const point = published(path.join(dataDir, 'm4/results/m4-published-point.csv'), ['smape', 'mase', 'owa']);
const pi = published(path.join(dataDir, 'm4/results/m4-published-pi.csv'), ['msis', 'acd']);

function timingRows() {
  return fs.readFileSync(path.join(outDir, 'timings.tsv'), 'utf8').split('\n').filter(Boolean)
    .map((l) => l.split('\t'));
}

const fmt = (v, d = 3) => (v === undefined || v === null || Number.isNaN(v) ? '' : Number(v).toFixed(d));
const pad = (s, n) => String(s).padEnd(n);
const padl = (s, n) => String(s).padStart(n);

const goals = {
  Hourly: { owa: 0.45, msis: 7.5, rate: 100 },
  Weekly: { owa: 0.80 },
};
const anchors = {
  Hourly: [['Naive2', 'Naive2 (OWA reference)'], ['sNaive', 'Seasonal naive'], ['SES', 'SES'],
    ['Theta', 'Theta'], ['Damped', 'Damped'], ['Com', 'Comb SES/Holt/Damped'],
    ['238', 'best: #238 Doornik et al.'], ['118', 'winner: #118 Smyl (ES-RNN)']],
  Weekly: [['Naive2', 'Naive2 (OWA reference)'], ['SES', 'SES'], ['Theta', 'Theta'],
    ['Damped', 'Damped'], ['Com', 'Comb SES/Holt/Damped'], ['235', 'best: #235 Forecast Pro'],
    ['118', 'winner: #118 Smyl (ES-RNN)']],
};
const piAnchors = [['Naive', 'Naive1'], ['ETS', 'ETS'], ['ARIMA', 'auto.arima'],
  ['238', '#238 Doornik et al.'], ['118', '#118 Smyl']];

let failures = 0;
for (const freq of ['Hourly', 'Weekly']) {
  const train = m4.readM4Csv(path.join(dataDir, `m4/${freq}-train.csv`));
  const test = m4.readM4Csv(path.join(dataDir, `m4/${freq}-test.csv`));
  console.log(`\n${freq}: ${test.size} series`);
  console.log(`  ${pad('method (this run, through freight.forecast)', 46)} ${padl('sMAPE', 7)} ${padl('MASE', 7)} ${padl('OWA', 6)} ${padl('MSIS', 7)} ${padl('cover', 6)} ${padl('series/s', 9)} ${padl('/CPU-s', 9)}`);
  const ours = {};
  for (const [f, method, sessions, series, seconds, cpu] of timingRows()) {
    if (f !== freq) continue;
    const file = (part) => path.join(outDir, `${freq}-${method}-${part}.csv`);
    const res = m4.score({
      train, test, forecast: m4.readM4Csv(file('point')),
      lower: m4.readM4Csv(file('lower')), upper: m4.readM4Csv(file('upper')),
      level: 95, m4Rounding: true,
    }).rows.find((r) => r.frequency === freq);
    const rate = Number(series) / Number(seconds);
    const cpuRate = cpu ? Number(series) / Number(cpu) : undefined;
    const label = `${method}${sessions > 1 ? ` (${sessions} sessions)` : ''}`;
    ours[label] = { ...res, rate, cpuRate };
    console.log(`  ${pad(label, 46)} ${padl(fmt(res.smape), 7)} ${padl(fmt(res.mase), 7)} ${padl(fmt(res.owa), 6)} ${padl(fmt(res.msis), 7)} ${padl(fmt(res.coverage * 100, 1), 6)} ${padl(fmt(rate, 1), 9)} ${padl(fmt(cpuRate, 1), 9)}`);
  }
  console.log('  published (M4 "Evaluation and Ranks"):');
  for (const [id, name] of anchors[freq]) {
    const p = point[id] && point[id][freq];
    if (p) console.log(`  ${pad(name, 46)} ${padl(fmt(p.smape), 7)} ${padl(fmt(p.mase), 7)} ${padl(fmt(p.owa), 6)}`);
  }
  console.log('  published 95% intervals (MSIS / ACD):');
  for (const [id, name] of piAnchors) {
    const p = pi[id] && pi[id][freq];
    if (p) console.log(`  ${pad(name, 46)} ${padl('', 7)} ${padl('', 7)} ${padl('', 6)} ${padl(fmt(p.msis), 7)} ${padl(`ACD ${fmt(p.acd)}`, 10)}`);
  }
  const auto = ours.auto;
  if (auto) {
    const g = goals[freq];
    const checks = [[`OWA ${fmt(auto.owa)} <= ${g.owa}`, auto.owa <= g.owa],
      [`coverage ${fmt(auto.coverage * 100, 1)}% in 93..97`, auto.coverage >= 0.93 && auto.coverage <= 0.97]];
    if (g.msis) checks.push([`MSIS ${fmt(auto.msis)} <= ${g.msis}`, auto.msis <= g.msis]);
    if (g.rate) {
      checks.push([`${fmt(auto.rate, 1)} series per wall-clock second (one session) >= ${g.rate}`, auto.rate >= g.rate]);
      checks.push([`${fmt(auto.cpuRate, 1)} series per CPU second of the backend >= ${g.rate}`, auto.cpuRate >= g.rate]);
    }
    const snaive = point.sNaive[freq].owa, theta = point.Theta[freq].owa;
    console.log(`  auto vs published: OWA ratio to Theta ${fmt(auto.owa / theta)}, to seasonal naive ${fmt(auto.owa / snaive)}`);
    for (const [text, ok] of checks) {
      console.log(`  goal ${ok ? 'met   ' : 'MISSED'} ${text}`);
      if (!ok) failures++;
    }
  }
}
process.exitCode = failures ? 1 : 0;
