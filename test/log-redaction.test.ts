import { Writable } from 'node:stream';
import { pino } from 'pino';
import supertest from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/http/app.js';
import { lineScrubber } from '../src/http/log-redaction.js';
import { useGateway, useOperator, usePublisher, useSubscriber } from './support/world.js';

/** An admin key with no recognisable shape: spaces, punctuation, nothing like a token. */
const SHAPELESS_ADMIN_KEY = 'correct horse/battery staple+42!';

const gw = useGateway();
const publisher = usePublisher(gw);
const subscriber = useSubscriber(gw, useOperator(gw));
let logLines: string[];
let app: ReturnType<typeof createApp>;

beforeAll(() => {
  logLines = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  // pino as the gateway's own, writing at info level into the test: what an operator would keep.
  app = createApp({
    ...gw.ctx,
    config: { ...gw.ctx.config, adminApiKey: SHAPELESS_ADMIN_KEY },
    logger: pino({ level: 'info' }, sink),
  });
});

/** Every character percent-encoded, as a client may send it. */
const encodeAll = (text: string) =>
  [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0').toUpperCase()}`).join('');

/** The log text as written and decoded up to four times over, `+` as a space or not: where a secret could be read. */
function readings(text: string): string[] {
  const decodings = (start: string) => {
    const forms = [start];
    for (let i = 0; i < 4; i++) {
      const last = forms[forms.length - 1] as string;
      let next: string;
      try {
        next = decodeURIComponent(last);
      } catch {
        next = last.replace(/%[0-9A-Fa-f]{2}/g, (hex) => String.fromCharCode(parseInt(hex.slice(1), 16)));
      }
      forms.push(next);
    }
    return forms;
  };
  return [...decodings(text), ...decodings(text.replace(/\+/g, ' '))];
}

async function loggedFor(url: string): Promise<string> {
  const before = logLines.length;
  await supertest(app).get(url);
  return logLines.slice(before).join('\n');
}

describe('No credential reaches the log, as written or percent-decoded (issue 21, item 6)', () => {
  const cases: [string, () => string, (secret: string) => string][] = [
    ['an assertion in the path', () => subscriber.token, (s) => `/v1/purchases/${s}`],
    ['an assertion nested in another parameter', () => subscriber.token, (s) => `/me?next=%2Fme%3Fassertion%3D${s}`],
    [
      'an assertion nested and double-encoded',
      () => subscriber.token,
      (s) => `/me?lang=fr&next=${encodeURIComponent(encodeURIComponent(`/me?assertion=${s}`))}`,
    ],
    ['an assertion fully percent-encoded in a parameter', () => subscriber.token, (s) => `/me?x=${encodeAll(s)}`],
    ['a publisher key in the path', () => publisher.apiKey, (s) => `/v1/purchases/${s}`],
    ['a publisher key percent-encoded in the path', () => publisher.apiKey, (s) => `/v1/purchases/${encodeAll(s)}`],
    ['a publisher key in a parameter', () => publisher.apiKey, (s) => `/v1/me/budget?key=${s}`],
    [
      'a publisher key double-encoded in a parameter',
      () => publisher.apiKey,
      (s) => `/v1/me/budget?a=1&key=${encodeURIComponent(encodeAll(s))}`,
    ],
    ['a publisher key as a parameter name', () => publisher.apiKey, (s) => `/v1/me/budget?${s}`],
    ['a publisher key glued to a malformed escape', () => publisher.apiKey, (s) => `/v1/purchases/%ZZ${s}`],
    ['a publisher key glued to other letters', () => publisher.apiKey, (s) => `/v1/me/budget?q=abc${s}`],
    ['the admin key in a parameter', () => SHAPELESS_ADMIN_KEY, (s) => `/v1/me/budget?key=${encodeURIComponent(s)}`],
    [
      'the admin key with + for spaces',
      () => SHAPELESS_ADMIN_KEY,
      (s) => `/v1/me/budget?key=${s.split(' ').map(encodeURIComponent).join('+')}`,
    ],
    ['the admin key fully percent-encoded', () => SHAPELESS_ADMIN_KEY, (s) => `/v1/me/budget?key=${encodeAll(s)}`],
    [
      'the admin key nested and double-encoded',
      () => SHAPELESS_ADMIN_KEY,
      (s) => `/me?next=${encodeURIComponent(`/v1?key=${encodeURIComponent(s)}`)}`,
    ],
    ['the admin key across path segments', () => SHAPELESS_ADMIN_KEY, (s) => `/v1/${encodeURI(s)}`],
    ['the admin key encoded in the path', () => SHAPELESS_ADMIN_KEY, (s) => `/v1/admin/${encodeAll(s)}`],
  ];

  for (const [where, secretOf, urlFor] of cases) {
    it(`When a request carries ${where}, then no log line holds it in any decoding, and the request is still logged`, async () => {
      const secret = secretOf();
      const url = urlFor(secret);
      const logged = await loggedFor(url);
      expect(logged).toContain('"url"');
      for (const reading of readings(logged)) {
        expect(reading).not.toContain(secret);
        if (secret === subscriber.token) expect(reading).not.toContain(secret.split('.')[2]);
      }
    });
  }

  it('When a URL holds no credential, then it is logged as it came', async () => {
    const logged = await loggedFor('/v1/me/budget?lang=fr&next=%2Fme%3Fpage%3D2');
    expect(logged).toContain('/v1/me/budget?lang=fr&next=%2Fme%3Fpage%3D2');
  });
});

describe('Every log line is scrubbed as it is written', () => {
  it('When a message or an error carries a credential, then the line written holds none of them', () => {
    const scrub = lineScrubber([SHAPELESS_ADMIN_KEY, 'with "quotes" \\ inside!']);
    const line = JSON.stringify({
      msg: `failed for ${SHAPELESS_ADMIN_KEY}`,
      err: { message: `bad token ${subscriber.token} and key ${publisher.apiKey}` },
      other: 'with "quotes" \\ inside!',
    });
    const scrubbed = scrub(line);
    expect(scrubbed).not.toContain(SHAPELESS_ADMIN_KEY);
    expect(scrubbed).not.toContain(subscriber.token.split('.')[2]);
    expect(scrubbed).not.toContain(publisher.apiKey);
    expect(scrubbed).not.toContain('quotes');
    expect(JSON.parse(scrubbed)).toMatchObject({ msg: 'failed for [redacted]' });
  });

  it('When a line names a constraint or a host, then it is written as it was', () => {
    const line = '{"msg":"violates public.purchases.subscriber_id_fkey at db.internal.example:5432"}';
    expect(lineScrubber([SHAPELESS_ADMIN_KEY])(line)).toBe(line);
  });
});
