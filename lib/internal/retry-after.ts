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
  return (
    parseRetryAfterMs(headers.get('retry-after-ms') ?? '') ?? parseRetryAfter(headers.get('retry-after') ?? '', now)
  );
}

/** `retry-after-ms`: a non-negative number of milliseconds, decimals allowed. */
export function parseRetryAfterMs(value: string): number | undefined {
  return /^\s*\d{1,12}(\.\d+)?\s*$/.test(value) ? Math.ceil(Number(value)) : undefined;
}

/**
 * `Retry-After`: delta-seconds (`120`; a fraction such as `1.5` is honoured as seconds, though
 * the grammar has none), or an HTTP date in IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the
 * obsolete RFC 850 form (`Sunday, 06-Nov-94 08:49:37 GMT`) or asctime (`Sun Nov  6 08:49:37
 * 1994`). Signs, lists (`2, 3`), decimal commas (`5,5`) and other dates are undefined.
 */
export function parseRetryAfter(value: string, now: number = Date.now()): number | undefined {
  if (/^\s*\d{1,10}(\.\d+)?\s*$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = httpDate(value.trim(), now);
  return date === undefined ? undefined : Math.max(0, date - now);
}

const M = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const T = '(\\d\\d):(\\d\\d):(\\d\\d)';
// Day, month, year, time. A weekday is read for its shape (Sun, Sunday), not checked against the date.
const FORMS = [
  new RegExp(`^[A-Z][a-z]{2}, (\\d\\d) ${M} (\\d{4}) ${T} GMT$`),
  new RegExp(`^[A-Z][a-z]{2,5}day, (\\d\\d)-${M}-(\\d\\d) ${T} GMT$`),
];
const ASCTIME = new RegExp(`^[A-Z][a-z]{2} ${M} ([ \\d]\\d) ${T} (\\d{4})$`);

/** An HTTP date as epoch milliseconds, or undefined for anything else, an impossible date (31
 * Feb) included. Names are case-sensitive, as the grammar has them. */
export function httpDate(text: string, now: number = Date.now()): number | undefined {
  const asc = ASCTIME.exec(text);
  const parts =
    asc === null
      ? (FORMS[0]!.exec(text) ?? FORMS[1]!.exec(text))?.slice(1)
      : [asc[2], asc[1], asc[6], asc[3], asc[4], asc[5]];
  if (parts === undefined) return undefined;
  const [day, month, year, hour, minute, second] = parts.map((part, index) =>
    index === 1 ? (M.indexOf(part!) - 1) / 4 : Number(part),
  ) as [number, number, number, number, number, number];
  let fullYear = year;
  if (parts[2]!.length === 2) {
    // RFC 9110: a two-digit year more than 50 years ahead is in the past century.
    const current = new Date(now).getUTCFullYear();
    fullYear += current - (current % 100);
    if (fullYear > current + 50) fullYear -= 100;
  }
  const date = new Date(Date.UTC(fullYear, month, day, hour, minute, Math.min(second, 59)));
  const real =
    date.getUTCFullYear() === fullYear &&
    date.getUTCMonth() === month &&
    date.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 61;
  return real ? date.getTime() : undefined;
}
