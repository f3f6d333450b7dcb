import { z } from 'zod';
import {
  createDocument,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
  type ZodOpenApiResponsesObject,
} from 'zod-openapi';
import type { ActorKind } from '../actors.js';
import type { Operation } from './operation.js';
import { errorBody } from './schemas.js';
import { webhookPathItems } from './webhooks.js';

/** `/v1/purchases/:id` → `/v1/purchases/{id}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

const ERROR_STATUSES: Record<number, string> = {
  400: 'Bad input (`invalid_request`, details name the fields); nothing was changed',
  401: '`unauthorized`: missing, unknown or expired credential',
  402:
    'Declined: `per_purchase_limit`, `weekly_ceiling`, `monthly_ceiling`, `account_blocked`, ' +
    '`category_blocked`, `publisher_suspended`',
  403: '`forbidden`: a valid credential of another kind, or a suspended publisher creating',
  404: '`not_found`: does not exist, or is not yours',
  409: '`idempotency_conflict` or `invalid_state`',
  410: '`consent_expired`',
  429: '`rate_limited`',
  503: '`service_unavailable`, with Retry-After',
};
const ALWAYS = [400, 401, 403, 429, 503];

const SECURITY: Record<ActorKind, { description: string; bearerFormat?: string }> = {
  admin: { description: 'The platform admin key (ADMIN_API_KEY)' },
  operator: { description: 'An operator API key, `kq_op_…`' },
  publisher: { description: 'A publisher API key, `kq_pub_…`' },
  subscriber: {
    description:
      'An assertion: HS256 JWT signed by the operator (iss operator id, sub externalRef, aud "kiosque", exp ≤ 10 min)',
    bearerFormat: 'JWT',
  },
};

function pathParams(op: Operation): z.ZodObject | undefined {
  if (op.params) return op.params;
  const names = [...op.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
  return names.length ? z.object(Object.fromEntries(names.map((n) => [n, z.string()]))) : undefined;
}

function responses(op: Operation): ZodOpenApiResponsesObject {
  const out: Record<string, ZodOpenApiResponseObject> = {};
  for (const [status, response] of Object.entries(op.responses)) {
    out[status] = {
      description: response.description,
      ...(response.schema || response.csv
        ? {
            content: {
              ...(response.schema ? { 'application/json': { schema: response.schema } } : {}),
              ...(response.csv ? { 'text/csv': { schema: z.string() } } : {}),
            },
          }
        : {}),
    };
  }
  for (const status of new Set([...ALWAYS, ...(op.errors ?? [])])) {
    out[`${status}`] = {
      description: ERROR_STATUSES[status] ?? 'Error',
      content: { 'application/json': { schema: errorBody } },
    };
  }
  return out;
}

function operationObject(op: Operation): ZodOpenApiOperationObject {
  const path = pathParams(op);
  const idempotency =
    op.method === 'post'
      ? z.object({
          'Idempotency-Key': z
            .string()
            .min(1)
            .max(255)
            .meta({ description: 'Retrying with the same key and body replays the first answer; another body is 409' })
            [op.idempotencyKeyRequired ? 'nonoptional' : 'optional'](),
        })
      : undefined;
  return {
    operationId: `${op.method}${op.path.replace(/[/:-]+(\w)/g, (_, c: string) => c.toUpperCase())}`,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.tag],
    security: op.actors.map((actor) => ({ [actor]: [] })),
    ...(path || op.query || idempotency
      ? {
          requestParams: {
            ...(path ? { path } : {}),
            ...(op.query ? { query: op.query } : {}),
            ...(idempotency ? { header: idempotency } : {}),
          },
        }
      : {}),
    ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: op.body } } } } : {}),
    responses: responses(op),
  };
}

export interface DocumentInfo {
  version: string;
  serverUrl: string;
}

/** The OpenAPI 3.1 document of every listed operation, rendered from their zod schemas. */
export function buildOpenApiDocument(ops: readonly Operation[], info: DocumentInfo) {
  const paths: ZodOpenApiPathsObject = {};
  for (const op of ops) {
    const key = openApiPath(op.path);
    paths[key] = { ...paths[key], [op.method]: operationObject(op) };
  }
  return createDocument(
    {
      openapi: '3.1.0',
      info: {
        title: 'Kiosque',
        version: info.version,
        description:
          "Micropayments billed on the subscriber's ISP or carrier invoice. " +
          'Amounts are decimal strings in euros ("2.88"); ' +
          'times are ISO-8601 UTC; every error has the body `{"error": {"code", "message", "details", "requestId"}}`. ' +
          "`webhooks` describes each event Kiosque POSTs to a publisher's or an operator's webhookUrl.",
      },
      servers: [{ url: info.serverUrl }],
      paths,
      webhooks: webhookPathItems(),
      components: {
        securitySchemes: Object.fromEntries(
          Object.entries(SECURITY).map(([name, scheme]) => [name, { type: 'http', scheme: 'bearer', ...scheme }]),
        ),
      },
    },
    // Refinements (such as "at most 50.00") cannot be written in JSON Schema; the descriptions say them.
    { allowEmptySchema: { custom: true, transform: true, pipe: true } },
  );
}
