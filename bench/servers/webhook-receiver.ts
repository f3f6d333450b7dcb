import { createServer } from 'node:http';

// A publisher's webhook endpoint that accepts everything at once: the receiving side costs as little as it can.
const port = Number(process.env.PORT);
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(req.url === '/healthz' ? 200 : 204).end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1');
process.on('SIGINT', () => server.close(() => process.exit(0)));
