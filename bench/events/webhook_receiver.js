// webhook_receiver.js — the benchmark's fast local webhook receiver (node:http only).
//
// Answers 204 at once, counts deliveries and measures commit-to-delivery latency from the
// CloudEvent's "time" (the commit time of a CDC event, microseconds) to the arrival.
//   PORT=n node webhook_receiver.js      prints "listening <port>"
//   GET /stats   {"count", "first_ms", "last_ms", "p50_ms", "p99_ms", "max_ms", "latencies"}
//   POST /reset  forgets everything
'use strict';
const http = require('node:http');

let arrivals = [];
let latencies = [];
const nowMs = () => performance.timeOrigin + performance.now();

// "2026-11-26T01:02:03.123456Z" -> milliseconds with the microseconds kept.
function eventTimeMs(time) {
	const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?Z$/.exec(time || '');
	if (!m) return NaN;
	return Date.parse(m[1] + 'Z') + (m[2] ? Number(m[2]) * 1000 : 0);
}

function pct(sorted, p) {
	if (sorted.length === 0) return null;
	return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

const server = http.createServer((req, res) => {
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		const t = nowMs();
		if (req.method === 'GET' && req.url === '/stats') {
			const s = [...latencies].sort((a, b) => a - b);
			res.writeHead(200, { 'Content-Type': 'application/json' });
			return res.end(JSON.stringify({
				count: arrivals.length, first_ms: arrivals[0] ?? null, last_ms: arrivals[arrivals.length - 1] ?? null,
				p50_ms: pct(s, 0.5), p99_ms: pct(s, 0.99), max_ms: s[s.length - 1] ?? null,
			}));
		}
		if (req.method === 'POST' && req.url === '/reset') {
			arrivals = [];
			latencies = [];
			res.writeHead(204);
			return res.end();
		}
		arrivals.push(t);
		try {
			const ev = JSON.parse(Buffer.concat(chunks).toString('utf8'));
			const lat = t - eventTimeMs(ev.time);
			if (ev.type !== 'cdc.slot_lag' && !Number.isNaN(lat)) latencies.push(lat);
		} catch (e) { /* not JSON: counted, no latency */ }
		res.writeHead(204);
		res.end();
	});
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
	console.log(`listening ${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
