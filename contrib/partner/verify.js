// verify.js — the smallest freight webhook receiver: verify with the standardwebhooks package,
// de-duplicate on webhook-id, answer quickly.
//
//   npm install standardwebhooks
//   WEBHOOK_SECRET=whsec_... node verify.js      (listens on 127.0.0.1:8080)
'use strict';
const http = require('node:http');
const { Webhook } = require('standardwebhooks');

const wh = new Webhook(process.env.WEBHOOK_SECRET);
const seen = new Set();	// use a shared store (e.g. Redis with a TTL) in production

http.createServer((req, res) => {
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		const body = Buffer.concat(chunks).toString('utf8');	// verify the raw body, not re-encoded JSON
		let event;
		try {
			event = wh.verify(body, req.headers);	// checks signature and 5-minute timestamp window
		} catch (err) {
			res.writeHead(401);
			return res.end('invalid signature');
		}
		const id = req.headers['webhook-id'];
		if (!seen.has(id)) {
			seen.add(id);
			console.log(`${event.type} ${event.subject ?? ''} ${JSON.stringify(event.data)}`);
		}
		res.writeHead(204);	// answer 2xx fast; do slow work after answering
		res.end();
	});
}).listen(Number(process.env.PORT || 8080), '127.0.0.1');
