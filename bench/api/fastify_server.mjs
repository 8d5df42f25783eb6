// fastify_server.mjs — bench/api reference: Fastify + pg (see reference.mjs).  PORT env.
import Fastify from 'fastify';
import { verifyJwt, shipmentsQuery, runAs } from './reference.mjs';

const app = Fastify({ logger: false });
app.get('/api/shipments', async (req, reply) => {
  const claims = verifyJwt(req.headers.authorization);
  if (!claims) return reply.code(401).send({ code: 'PGRST301', message: 'JWT invalid' });
  const body = await runAs(claims, '/api/shipments', shipmentsQuery(req.query), req.headers);
  return reply.type('application/json; charset=utf-8').send(body);
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
