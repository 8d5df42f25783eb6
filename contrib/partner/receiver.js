#!/usr/bin/env node
// receiver.js — a sample freight webhook receiver, also used by the tests and the benchmark.
//
// Verifies every delivery with the npm package standardwebhooks (an implementation independent
// of freight's), de-duplicates on webhook-id, and logs one JSON line per request.
//
//   WEBHOOK_SECRETS=whsec_...[,whsec_...] PORT=0 LOG=deliveries.jsonl node receiver.js
//
// SECRETS_FILE=path instead of WEBHOOK_SECRETS reads the secrets (one a line) from a file before
// each request, so a test can change them while the receiver runs (secret rotation).
// It prints "listening <port>" once ready.  The path decides the answer, so one receiver can
// play every kind of partner:
//   /ok            200                         /gone        410 Gone
//   /fail          500                         /reject      400
//   /slow?ms=N     200 after N ms              /throttle?s=N  429 with Retry-After: N
//   /hang          never answers (timeout)     /drop        closes the connection, no answer
//   /flaky?n=K     500 for the first K attempts of each webhook-id, then 200
// Without secrets, signatures are not checked (verified: null in the log).
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const { Webhook } = require('standardwebhooks');

const fixedVerifiers = (process.env.WEBHOOK_SECRETS || '').split(',').filter(Boolean)
	.map((s) => new Webhook(s));
const log = process.env.LOG ? fs.createWriteStream(process.env.LOG, { flags: 'a' }) : null;
const seen = new Map();	// webhook-id -> attempts seen

// True if any configured secret verifies the request (the library checks the timestamp too).
function verify(body, headers) {
	const verifiers = process.env.SECRETS_FILE
		? fs.readFileSync(process.env.SECRETS_FILE, 'utf8').split('\n').filter(Boolean).map((s) => new Webhook(s))
		: fixedVerifiers;
	if (verifiers.length === 0) return null;
	for (const wh of verifiers) {
		try {
			wh.verify(body, headers);
			return true;
		} catch (e) { /* try the next secret */ }
	}
	return false;
}

const server = http.createServer((req, res) => {
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		const body = Buffer.concat(chunks).toString('utf8');
		const url = new URL(req.url, 'http://receiver');
		const id = req.headers['webhook-id'] || null;
		const attempt = (seen.get(id) || 0) + 1;
		seen.set(id, attempt);
		const verified = verify(body, req.headers);
		let type = null;
		try { type = JSON.parse(body).type; } catch (e) { /* not JSON */ }
		const answer = (status, headers) => {
			if (log) {
				log.write(JSON.stringify({
					t: Date.now(), path: url.pathname, id, attempt, verified, status, type,
					timestamp: Number(req.headers['webhook-timestamp']),
					signatures: (req.headers['webhook-signature'] || '').split(' ').length,
					content_type: req.headers['content-type'] || null,
				}) + '\n');
			}
			if (status === 0) { req.socket.destroy(); return; }
			if (status < 0) return;	// hang: never answer
			res.writeHead(status, headers || {});
			res.end(status === 200 ? '' : `status ${status}`);
		};
		// A signature that does not verify is refused like a real partner would.
		if (verified === false) return answer(401);
		switch (url.pathname) {
			case '/ok': return answer(200);
			case '/fail': return answer(500);
			case '/gone': return answer(410);
			case '/reject': return answer(400);
			case '/drop': return answer(0);
			case '/hang': return answer(-1);
			case '/throttle': return answer(429, { 'Retry-After': url.searchParams.get('s') || '1' });
			case '/slow': return setTimeout(() => answer(200), Number(url.searchParams.get('ms') || 1000));
			case '/flaky': return answer(attempt <= Number(url.searchParams.get('n') || 1) ? 500 : 200);
			default: return answer(404);
		}
	});
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
	console.log(`listening ${server.address().port}`);
});
process.on('SIGTERM', () => { if (log) log.end(); process.exit(0); });
