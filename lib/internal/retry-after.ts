// The wait a server asks for before the next attempt, read strictly: `Retry-After` as
// delta-seconds or as one of the three HTTP-date forms of RFC 9110 §5.6.7, and `retry-after-ms`,
// which OpenAI-compatible servers send. Anything else is no answer at all, so the caller's backoff
// applies: a lenient `Date.parse` reads "1.5" or "5,5" as dates in 2001, an immediate retry.

/** At most this many digits of seconds are read; more is a wait no policy obeys anyway. */
const MAX_DIGITS = 10;

/**
 * The wait a response asks for, in whole milliseconds (rounded up), or undefined when it asks
 * for none or says it in a form not defined for the header. `retry-after-ms` is preferred when
 * it is valid; a date in the past is a wait of 0.
 */
export function retryAfterOf(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  const fromMs = ms === null ? undefined : parseRetryAfterMs(ms);
  if (fromMs !== undefined) return fromMs;
  const value = headers.get('retry-after');
  return value === null ? undefined : parseRetryAfter(value, now);
}

/** `retry-after-ms`: a non-negative number of milliseconds, decimals allowed. */
export function parseRetryAfterMs(value: string): number | undefined {
  const text = value.trim();
  if (!/^\d{1,13}(\.\d+)?$/.test(text)) return undefined;
  return Math.ceil(Number(text));
}

/**
 * `Retry-After`: delta-seconds (`120`; a fraction such as `1.5` is honoured as seconds, though
 * the grammar has none), or an HTTP date in IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the
 * obsolete RFC 850 form (`Sunday, 06-Nov-94 08:49:37 GMT`) or asctime (`Sun Nov  6 08:49:37
 * 1994`). Signs, lists (`2, 3`), decimal commas (`5,5`) and other dates are undefined.
 */
export function parseRetryAfter(value: string, now: number = Date.now()): number | undefined {
  const text = value.trim();
  const seconds = new RegExp(`^(\\d{1,${MAX_DIGITS}})(\\.\\d+)?$`).exec(text);
  if (seconds !== null) return Math.ceil(Number(text) * 1000);
  const date = httpDate(text, now);
  return date === undefined ? undefined : Math.max(0, date - now);
}

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const LONG_DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
const MONTH = `(${MONTHS.join('|')})`;
const IMF_FIXDATE = new RegExp(`^(?:${DAYS.join('|')}), (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC_850 = new RegExp(`^(?:${LONG_DAYS.join('|')}), (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME = new RegExp(`^(?:${DAYS.join('|')}) ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

/** An HTTP date as epoch milliseconds, or undefined for anything else (or an impossible date,
 * such as 31 Feb). Names are case-sensitive, as the grammar has them. */
export function httpDate(text: string, now: number = Date.now()): number | undefined {
  let match = IMF_FIXDATE.exec(text);
  if (match !== null) return utc(Number(match[3]), match[2]!, Number(match[1]), match.slice(4, 7));
  match = RFC_850.exec(text);
  if (match !== null) {
    // RFC 9110: a two-digit year more than 50 years in the future means the past century.
    const current = new Date(now).getUTCFullYear();
    let year = Math.floor(current / 100) * 100 + Number(match[3]);
    if (year > current + 50) year -= 100;
    return utc(year, match[2]!, Number(match[1]), match.slice(4, 7));
  }
  match = ASCTIME.exec(text);
  if (match !== null) return utc(Number(match[6]), match[1]!, Number(match[2]!.trim()), match.slice(3, 6));
  return undefined;
}

function utc(year: number, month: string, day: number, time: string[]): number | undefined {
  const [hour, minute, second] = time.map(Number) as [number, number, number];
  const index = MONTHS.indexOf(month);
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const date = new Date(Date.UTC(year, index, day, hour, minute, Math.min(second, 59)));
  // Date.UTC rolls 31 Feb over into March; such a date is not one.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== index || date.getUTCDate() !== day) return undefined;
  return date.getTime();
}
