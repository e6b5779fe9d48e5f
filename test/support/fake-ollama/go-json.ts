// JSON the way the Go server writes and reads it: its escaping, float32 numbers, sorted map keys,
// time stamps, and the first-value decoding (with Go's error wording) that gin binds requests with.

// Go's encoder escapes these even inside ordinary strings; a client must cope with it.
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
  );
}

// Approximates Go's %q, which the server uses for model names in some messages.
export const goQuote = (s: string): string => JSON.stringify(s);

// Go's float32 output is the shortest decimal that round-trips through float32, not float64.
export function float32Json(x: number): number {
  const v = Math.fround(x);
  if (v === 0 || !Number.isFinite(v)) return v;
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(v.toPrecision(digits));
    if (Math.fround(candidate) === v) return candidate;
  }
  return v;
}

// Go writes a map's keys sorted.
export function sortedKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

// The stand-in's clock: every time stamp it writes counts milliseconds from here.
const BASE_TIME_MS = Date.UTC(2026, 0, 1);

// time.Time in RFC 3339 with nanoseconds, trailing zeros (and a bare dot) dropped, as Go writes it.
export function createdAt(index: number): string {
  return new Date(BASE_TIME_MS + index)
    .toISOString()
    .replace(/(\.\d*?)0+Z$/, '$1Z')
    .replace(/\.Z$/, 'Z');
}

class GoJsonError extends Error {}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

// The Go scanner names the offending byte as a rune of that value, quoted Go-style.
function quoteByte(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return `'"'`;
  const short: Record<number, string> = {
    7: '\\a',
    8: '\\b',
    12: '\\f',
    10: '\\n',
    13: '\\r',
    9: '\\t',
    11: '\\v',
    92: '\\\\',
  };
  const known = short[c];
  if (known !== undefined) return `'${known}'`;
  if (c < 0x20 || c === 0x7f) return `'\\x${hex2(c)}'`;
  if ((c >= 0x80 && c <= 0xa0) || c === 0xad) return `'\\u00${hex2(c)}'`;
  return `'${String.fromCharCode(c)}'`;
}

const MAX_JSON_DEPTH = 10000;

// gin binds with a json.Decoder: it reads the first JSON value and ignores whatever follows, and
// its errors have Go's wording. Returns the end offset of that first value.
function scanFirstValue(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  const eof = (): never => {
    throw new GoJsonError('unexpected EOF');
  };
  const bad = (c: number, where: string): never => {
    throw new GoJsonError(`invalid character ${quoteByte(c)} ${where}`);
  };
  const cur = (): number => (i < n ? (b[i] as number) : eof());
  const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
  const isHex = (c: number): boolean => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
  const skipSpace = (): void => {
    while (i < n && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d)) i++;
  };

  const str = (): void => {
    i++;
    while (i < n) {
      const c = b[i] as number;
      if (c === 0x22) {
        i++;
        return;
      }
      if (c === 0x5c) {
        i++;
        const e = cur();
        if (e === 0x75) {
          i++;
          for (let k = 0; k < 4; k++, i++) if (!isHex(cur())) bad(cur(), 'in \\u hexadecimal character escape');
          continue;
        }
        if (!'"\\/bfnrt'.includes(String.fromCharCode(e))) bad(e, 'in string escape code');
        i++;
        continue;
      }
      if (c < 0x20) bad(c, 'in string literal');
      i++;
    }
    eof();
  };

  const digits = (): void => {
    while (i < n && isDigit(b[i] as number)) i++;
  };
  const num = (topLevel: boolean): void => {
    if (cur() === 0x2d) {
      i++;
      if (!isDigit(cur())) bad(cur(), 'in numeric literal');
    }
    if (cur() === 0x30) i++;
    else digits();
    if (i < n && b[i] === 0x2e) {
      i++;
      if (!isDigit(cur())) bad(cur(), 'after decimal point in numeric literal');
      digits();
    }
    if (i < n && (b[i] === 0x65 || b[i] === 0x45)) {
      i++;
      if (cur() === 0x2b || cur() === 0x2d) i++;
      if (!isDigit(cur())) bad(cur(), 'in exponent of numeric literal');
      digits();
    }
    // Inside a container a number needs a delimiter after it; at top level EOF ends it.
    if (!topLevel) cur();
  };

  const literal = (word: string): void => {
    i++;
    for (let k = 1; k < word.length; k++, i++) {
      if (cur() !== word.charCodeAt(k)) bad(cur(), `in literal ${word} (expecting '${word.charAt(k)}')`);
    }
  };

  const value = (depth: number): void => {
    if (depth > MAX_JSON_DEPTH) throw new GoJsonError('exceeded max depth');
    skipSpace();
    const c = cur();
    if (c === 0x7b) obj(depth);
    else if (c === 0x5b) arr(depth);
    else if (c === 0x22) str();
    else if (c === 0x2d || isDigit(c)) num(depth === 0);
    else if (c === 0x74) literal('true');
    else if (c === 0x66) literal('false');
    else if (c === 0x6e) literal('null');
    else bad(c, 'looking for beginning of value');
  };

  const obj = (depth: number): void => {
    i++;
    skipSpace();
    if (cur() === 0x7d) {
      i++;
      return;
    }
    while (i < n) {
      skipSpace();
      if (cur() !== 0x22) bad(cur(), 'looking for beginning of object key string');
      str();
      skipSpace();
      if (cur() !== 0x3a) bad(cur(), 'after object key');
      i++;
      value(depth + 1);
      skipSpace();
      const d = cur();
      i++;
      if (d === 0x7d) return;
      if (d !== 0x2c) bad(d, 'after object key:value pair');
    }
    eof();
  };

  const arr = (depth: number): void => {
    i++;
    skipSpace();
    if (cur() === 0x5d) {
      i++;
      return;
    }
    while (i < n) {
      value(depth + 1);
      skipSpace();
      const d = cur();
      i++;
      if (d === 0x5d) return;
      if (d !== 0x2c) bad(d, 'after array element');
    }
    eof();
  };

  value(0);
  return i;
}

type Decoded = { kind: 'ok'; value: unknown } | { kind: 'empty' } | { kind: 'error'; message: string };

export function decodeGoJson(raw: Buffer): Decoded {
  if (raw.every((c) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d)) return { kind: 'empty' };
  try {
    const end = scanFirstValue(raw);
    return { kind: 'ok', value: JSON.parse(raw.subarray(0, end).toString('utf8')) as unknown };
  } catch (err) {
    if (err instanceof GoJsonError) return { kind: 'error', message: err.message };
    throw err;
  }
}

export function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  return 'object';
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
