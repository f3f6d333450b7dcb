import { DECLINE_CODES, type DeclineCode } from '../shared/codes.js';

/** A sandbox operator's subscriber `sandbox_declined_<code>` is declined with that code on every charge. */
export const SANDBOX_DECLINE_PREFIX = 'sandbox_declined_';

/** Every scenario subscriber a sandbox operator gets, one per 402 code. */
export const SANDBOX_SCENARIOS: readonly { externalRef: string; declineCode: DeclineCode }[] = DECLINE_CODES.map(
  (code) => ({
    externalRef: `${SANDBOX_DECLINE_PREFIX}${code}`,
    declineCode: code,
  }),
);

/**
 * The sandbox rule, checked before every other: the decline a scenario
 * subscriber always gets, or null for any live operator and any other ref,
 * which then go through the real checks.
 */
export function sandboxDecline(externalRef: string, sandbox: boolean): DeclineCode | null {
  if (!sandbox || !externalRef.startsWith(SANDBOX_DECLINE_PREFIX)) return null;
  const code = externalRef.slice(SANDBOX_DECLINE_PREFIX.length);
  return (DECLINE_CODES as readonly string[]).includes(code) ? (code as DeclineCode) : null;
}
