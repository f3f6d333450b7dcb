import { createServer } from 'node:http';
import { CONSTANT_REPLY } from './reply.js';

// The floor of what node can serve on this machine: no framework, no middleware.
const port = Number(process.env.PORT);
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(CONSTANT_REPLY),
    });
    res.end(CONSTANT_REPLY);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1');
process.on('SIGINT', () => server.close(() => process.exit(0)));
