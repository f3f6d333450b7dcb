/** Query parameters that carry a credential; compared after percent-decoding, case aside. */
const SECRET_PARAMETERS = new Set(['assertion']);

const REDACTED = '[redacted]';

/**
 * Credentials with a shape: an assertion (a JWT: header, payload and
 * signature, base64url, dot-separated; the lengths leave out dotted names
 * such as `public.purchases.subscriber_id_fkey` in an error) and Kiosque's API
 * keys and webhook secrets. The admin key has no shape; it is compared by value.
 */
const SHAPED_SECRETS = [/[\w-]{10,}\.[\w-]{16,}\.[\w-]{16,}/, /(?:kq_(?:op|pub)_|whsec_)[\w+/=-]{8,}/];
const SHAPED_SECRETS_ANYWHERE = SHAPED_SECRETS.map((shape) => new RegExp(shape.source, 'g'));

/** How many times a value is percent-decoded: enough for a parameter nested inside another, double-encoded. */
const DECODING_ROUNDS = 4;

/** Percent-decodes what decodes and leaves the rest, never throwing: logs must not fail on a malformed URL. */
function decodeLeniently(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) =>
    Buffer.from(
      run
        .slice(1)
        .split('%')
        .map((hex) => parseInt(hex, 16)),
    ).toString('utf8'),
  );
}

/** The text as written and as decoded once, twice… until decoding changes nothing more. */
function decodedForms(text: string): string[] {
  const forms = [text];
  for (let round = 0; round < DECODING_ROUNDS; round++) {
    const next = decodeLeniently(forms[forms.length - 1] as string);
    if (next === forms[forms.length - 1]) break;
    forms.push(next);
  }
  return forms;
}

/** Says whether a piece of a URL holds a credential, as written or percent-decoded, with `+` read as a space or not. */
function secretFinder(values: readonly string[]): (text: string) => boolean {
  const literal = values.filter(Boolean);
  return (text) =>
    [...decodedForms(text), ...decodedForms(text.replace(/\+/g, ' '))].some(
      (form) => SHAPED_SECRETS.some((shape) => shape.test(form)) || literal.some((value) => form.includes(value)),
    );
}

function decodedName(rawName: string): string | null {
  try {
    return decodeURIComponent(rawName.replace(/\+/g, ' ')).trim().toLowerCase();
  } catch {
    return null;
  }
}

function redactedParameter(parameter: string, holdsSecret: (text: string) => boolean): string {
  const equals = parameter.indexOf('=');
  const rawName = equals === -1 ? parameter : parameter.slice(0, equals);
  if (holdsSecret(rawName)) return REDACTED;
  const name = decodedName(rawName);
  const value = equals === -1 ? '' : parameter.slice(equals + 1);
  if (name !== null && !SECRET_PARAMETERS.has(name) && !holdsSecret(value)) return parameter;
  return `${rawName}=${REDACTED}`;
}

/**
 * The URL as it may be logged. A path segment holding a credential is
 * replaced; so is the value of a query parameter that holds one anywhere
 * (`?next=%2Fme%3Fassertion%3D<jwt>`, double-encoded or not), or whose
 * decoded name is a secret one however it is spelled (`%61ssertion`,
 * `ASSERTION`), or whose name does not even decode. `secrets` are values
 * without a shape to recognise (the admin key). Should a secret still show
 * through, split across segments, the whole URL is withheld.
 */
export function urlRedactor(secrets: readonly string[]): (url: string) => string {
  const holdsSecret = secretFinder(secrets);
  return (url) => {
    const start = url.indexOf('?');
    const path = start === -1 ? url : url.slice(0, start);
    const redactedPath = path
      .split('/')
      .map((segment) => (holdsSecret(segment) ? REDACTED : segment))
      .join('/');
    const redacted =
      start === -1
        ? redactedPath
        : `${redactedPath}?${url
            .slice(start + 1)
            .split('&')
            .map((parameter) => redactedParameter(parameter, holdsSecret))
            .join('&')}`;
    return holdsSecret(redacted) ? REDACTED : redacted;
  };
}

/**
 * Scrubs a whole log line, as written: the last guard for a credential that
 * reached a message or an error some other way than a request's URL.
 * Shaped credentials and the given secret values (also JSON-escaped, as a
 * log line holds them) are replaced wherever they appear.
 */
export function lineScrubber(secrets: readonly string[]): (line: string) => string {
  const literal = secrets.filter(Boolean).flatMap((value) => [value, JSON.stringify(value).slice(1, -1)]);
  return (line) => {
    let scrubbed = line;
    for (const shape of SHAPED_SECRETS_ANYWHERE) scrubbed = scrubbed.replace(shape, REDACTED);
    for (const value of literal) scrubbed = scrubbed.replaceAll(value, REDACTED);
    return scrubbed;
  };
}
