import type { Queue } from 'bullmq';
import type { Logger } from 'pino';

/** Attempts at recovering after a reconnect before leaving it to the periodic checks. */
const RECOVERY_ATTEMPTS = 8;
const RECOVERY_RETRY_MS = 250;

/**
 * Runs `recover` each time the queue's Redis connection is ready again after
 * being lost: a Redis that restarted empty has lost every schedule and queued
 * job, and PostgreSQL knows what to put back. Waiting for a periodic check
 * instead would leave the work idle for up to its interval. Returns the
 * function that stops listening.
 */
export async function onRedisReturn(
  queue: Queue,
  recover: () => Promise<unknown>,
  logger: Logger,
): Promise<() => void> {
  const client = await queue.getBackend().client;
  // Not connected yet counts as lost: whatever failed before the first connection is recovered on it.
  let lost = client.status !== 'ready';
  const attempt = async (left: number): Promise<void> => {
    try {
      await recover();
      logger.info({ queue: queue.name }, 'Redis is back: schedules and queued work recovered');
    } catch (error) {
      if (left <= 1) {
        logger.warn(
          { err: error, queue: queue.name },
          'could not recover after Redis came back; the periodic check will',
        );
        return;
      }
      await new Promise((r) => setTimeout(r, RECOVERY_RETRY_MS));
      await attempt(left - 1);
    }
  };
  const onClose = () => {
    lost = true;
  };
  const onReady = () => {
    if (!lost) return;
    lost = false;
    void attempt(RECOVERY_ATTEMPTS);
  };
  client.on('close', onClose);
  client.on('ready', onReady);
  return () => {
    client.off('close', onClose);
    client.off('ready', onReady);
  };
}
