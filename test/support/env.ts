/** Tests never touch the development database: they own `kiosque_test`, rebuilt each run. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/kiosque_test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_ADMIN_API_KEY = 'test_admin_key_0123456789';
