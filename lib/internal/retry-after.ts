// The wait a server asks for before the next attempt, read strictly: `Retry-After` as
// delta-seconds or as one of the three HTTP-date forms of RFC 9110 §5.6.7, and `retry-after-ms`,
// which OpenAI-compatible servers send. Anything else is no answer at all, so the caller's backoff
// applies: a lenient `Date.parse` reads "1.5" or "5,5" as dates in 2001, an immediate retry.

/**
 * The wait a response asks for, in whole milliseconds (rounded up), or undefined when it asks
 * for none or says it in a form not defined for the header. `retry-after-ms` is preferred when
 * it is valid; a date in the past is a wait of 0.
 */
export function retryAfterOf(headers: Headers, now: number = Date.now()): number | undefined {
  return number(headers.get('retry-after-ms'), 1) ?? parseRetryAfter(headers.get('retry-after') ?? '', now);
}

/**
 * `Retry-After`: delta-seconds (`120`; a fraction such as `1.5` is honoured as seconds, though
 * the grammar has none), or an HTTP date in IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the
 * obsolete RFC 850 form (`Sunday, 06-Nov-94 08:49:37 GMT`) or asctime (`Sun Nov  6 08:49:37
 * 1994`). Signs, lists (`2, 3`), decimal commas (`5,5`) and other dates are undefined.
 */
export function parseRetryAfter(value: string, now: number = Date.now()): number | undefined {
  const date = httpDate(value.trim(), now);
  return number(value, 1000) ?? (date === undefined ? undefined : Math.max(0, date - now));
}

/** A non-negative decimal number times `scale`, rounded up: `retry-after-ms` in milliseconds, or
 * delta-seconds (`1*DIGIT`: any number of digits, zeros in front included). One too large to hold
 * is the longest wait there is, which any limit refuses: never an immediate retry. */
function number(value: string | null, scale: number): number | undefined {
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value ?? '')) return undefined;
  const ms = Math.ceil(Number(value) * scale);
  return Number.isFinite(ms) ? Math.min(ms, Number.MAX_SAFE_INTEGER) : Number.MAX_SAFE_INTEGER;
}

/**
 * An HTTP date as epoch milliseconds, or undefined for anything else. The two obsolete forms are
 * rewritten as IMF-fixdate, which is what `Date.prototype.toUTCString` writes and `Date.parse` is
 * required to read back; a date is accepted only when it reads back as written, so a wrong
 * weekday, 31 Feb, or any looser form is refused. A two-digit year more than 50 years ahead is
 * in the past century (RFC 9110).
 */
export function httpDate(text: string, now: number = Date.now()): number | undefined {
  const rfc850 = /^([A-Z][a-z]{2})[a-z]{0,3}day, (\d\d)-(\w{3})-(\d\d) (\S+) GMT$/.exec(text);
  const asctime = /^(\w{3}) (\w{3}) ([ \d]\d) (\S+) (\d{4})$/.exec(text);
  let fixdate = text;
  if (rfc850 !== null) {
    const current = new Date(now).getUTCFullYear();
    let year = current - (current % 100) + Number(rfc850[4]);
    if (year > current + 50) year -= 100;
    fixdate = `${rfc850[1]}, ${rfc850[2]} ${rfc850[3]} ${year} ${rfc850[5]} GMT`;
  } else if (asctime !== null) {
    fixdate = `${asctime[1]}, ${asctime[3]!.replace(' ', '0')} ${asctime[2]} ${asctime[5]} ${asctime[4]} GMT`;
  }
  const date = Date.parse(fixdate);
  return new Date(date).toUTCString() === fixdate ? date : undefined;
}
