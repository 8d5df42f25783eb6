// express_server.mjs — bench/api reference: Express + pg, what the original app used
// (see reference.mjs).  PORT env.
import express from 'express';
import { verifyJwt, shipmentsQuery, runAs } from './reference.mjs';

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.get('/api/shipments', async (req, res) => {
  const claims = verifyJwt(req.headers.authorization);
  if (!claims) return res.status(401).json({ code: 'PGRST301', message: 'JWT invalid' });
  try {
    const body = await runAs(claims, '/api/shipments', shipmentsQuery(req.query), req.headers);
    res.type('application/json; charset=utf-8').send(body);
  } catch (e) {
    res.status(500).json({ code: e.code, message: e.message });
  }
});
app.listen(Number(process.env.PORT), '127.0.0.1');
