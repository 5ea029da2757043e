/**
 * The baseline of bench/api.ts: a bare Fastify app that does the least an HTTP JSON endpoint can
 * do — read and parse the same JSON body with Fastify's default parser and answer the same
 * `201 {"message":"success"}` Bellhop answers — so that "Bellhop / baseline" is the share of the
 * framework's own throughput that Bellhop keeps. No auth, no validation, no database, no logging.
 *
 * Run by the bench as `node --import tsx bench/baseline-server.ts` with PORT (and HOST) set.
 */
import Fastify from 'fastify';

const port = Number(process.env.PORT ?? '0');
const host = process.env.HOST ?? '127.0.0.1';
const success = { message: 'success' } as const;

const app = Fastify({ logger: false });
app.post('/v1/api/user/token', async (request, reply) => {
  if (typeof request.body !== 'object' || request.body === null) return reply.code(400).send();
  return reply.code(201).send(success);
});
app.get('/readyz', async () => ({ status: 'ready' }));

const stop = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

app.listen({ port, host }).then(
  (address) => process.stdout.write(`baseline listening on ${address}\n`),
  (error: unknown) => {
    process.stderr.write(`baseline could not start: ${String(error)}\n`);
    process.exit(1);
  },
);
