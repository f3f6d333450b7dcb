/** Query parameters that carry a credential; compared after percent-decoding, case aside. */
const SECRET_PARAMETERS = new Set(['assertion']);

const REDACTED = '[redacted]';

function decodedName(rawName: string): string | null {
  try {
    return decodeURIComponent(rawName.replace(/\+/g, ' ')).trim().toLowerCase();
  } catch {
    return null;
  }
}

/**
 * The URL as it may be logged: the value of every parameter whose decoded name
 * is a secret one is replaced, however the name was spelled (`%61ssertion`,
 * repeated, `ASSERTION`). A name that does not even decode has its value
 * replaced too: the log cannot tell what it is.
 */
export function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) return url;
  const parameters = url
    .slice(start + 1)
    .split('&')
    .map((parameter) => {
      const equals = parameter.indexOf('=');
      const rawName = equals === -1 ? parameter : parameter.slice(0, equals);
      const name = decodedName(rawName);
      if (name !== null && !SECRET_PARAMETERS.has(name)) return parameter;
      return `${rawName}=${REDACTED}`;
    });
  return `${url.slice(0, start + 1)}${parameters.join('&')}`;
}
