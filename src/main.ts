import { loadConfig } from './config.js';
import { shortReason } from './lifecycle.js';
import { useRedisCluster } from './queue/connection.js';
import { startGateway } from './server.js';

let config;
try {
  config = loadConfig();
} catch (error) {
  console.error(`Kiosque cannot start: ${shortReason(error)}`);
  process.exit(1);
}
if (config.redisClusterNodes.length) useRedisCluster(config.redisClusterNodes, config.redisUrl);
const gateway = await startGateway(config);
const { logger } = gateway.ctx;
const address = gateway.server.address();
const port = typeof address === 'object' && address ? address.port : config.port;
logger.info({ port, publicUrl: config.publicUrl }, 'Kiosque gateway listening');
if (config.adminApiKeyGenerated) {
  // Development convenience only: production refuses to start without ADMIN_API_KEY.
  console.log(
    `ADMIN_API_KEY not set; this run's development admin key (a new one at each start), for the demo:\n` +
      `  export ADMIN_API_KEY=${config.adminApiKey}`,
  );
}
void gateway.ready.then(() => logger.info('Kiosque gateway ready'));

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  await gateway.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
