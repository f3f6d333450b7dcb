import type { ZodObject, ZodType } from 'zod';
import type { ActorKind } from '../actors.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ApiResponse {
  description: string;
  /** The JSON body; omitted for a body the schema does not describe. */
  schema?: ZodType;
  /** Also answers text/csv when the client asks for it. */
  csv?: boolean;
}

/**
 * One documented /v1 operation. It is declared in the route file beside the
 * handler, with the very zod schemas the handler parses, and listed in
 * src/http/openapi/operations.ts; test/openapi.test.ts fails when a route and
 * its operation do not match one for one.
 */
export interface Operation {
  method: HttpMethod;
  /** The full path in Express syntax, as served: `/v1/purchases/:id`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /** The credentials admitted; any other valid one is 403. */
  actors: readonly ActorKind[];
  /** Path parameters; by default each `:name` is a string. */
  params?: ZodObject;
  query?: ZodObject;
  body?: ZodType;
  /** Whether the Idempotency-Key header is required; on POST it is honoured either way. */
  idempotencyKeyRequired?: boolean;
  responses: Record<number, ApiResponse>;
  /** Error statuses beyond those every operation may answer (400, 401, 403, 429, 503). */
  errors?: readonly number[];
}

/** Declares the operations of one route file; a function only so that the literal types are checked. */
export const operations = (...list: Operation[]): readonly Operation[] => list;
