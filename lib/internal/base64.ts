const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 of raw bytes, written out by hand because `Buffer` is Node-only and
 * `btoa` needs a binary string as large as the image first. */
export function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  const step = 3 * 8192; // keeps each intermediate string small for large images
  for (let offset = 0; offset < bytes.length; offset += step) {
    parts.push(encodeSlice(bytes.subarray(offset, Math.min(offset + step, bytes.length))));
  }
  return parts.join('');
}

function encodeSlice(bytes: Uint8Array): string {
  let out = '';
  const whole = bytes.length - (bytes.length % 3);
  for (let i = 0; i < whole; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  if (bytes.length - whole === 1) {
    const n = bytes[whole]! << 16;
    out += `${ALPHABET[n >> 18]!}${ALPHABET[(n >> 12) & 63]!}==`;
  } else if (bytes.length - whole === 2) {
    const n = (bytes[whole]! << 16) | (bytes[whole + 1]! << 8);
    out += `${ALPHABET[n >> 18]!}${ALPHABET[(n >> 12) & 63]!}${ALPHABET[(n >> 6) & 63]!}=`;
  }
  return out;
}
