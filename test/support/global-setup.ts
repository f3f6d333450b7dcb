import pg from 'pg';
import { migrate } from '../../src/store/migrate.js';
import { TEST_DATABASE_URL } from './env.js';

/** A fresh database per run, migrated by the same runner `npm start` uses. */
export default async function setup(): Promise<void> {
  const url = new URL(TEST_DATABASE_URL);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  await migrate(TEST_DATABASE_URL);
}
