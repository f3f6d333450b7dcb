import type { Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../src/config.js';
import type { Connection } from '../src/store/database.js';

/*
 * What a worker module is handed and hands back. Each worker imports these,
 * and the registry imports each worker, so they live apart from both.
 */

/** What every worker gets: PostgreSQL (the record) and the Redis settings for BullMQ. */
export interface WorkerDeps {
  config: Config;
  database: Connection;
  logger: Logger;
}

export interface RunningWorker {
  name: string;
  /** What /metrics reports on: job durations and failures from the worker, depths from the queue. */
  observed?: { worker: Worker; queue: Queue };
  /** Finishes in-flight jobs (or hands them back to the queue) and disconnects. */
  close(): Promise<void>;
}
