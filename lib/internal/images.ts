import type { ImageInput, Message } from '../types.ts';
import { toBase64 } from './base64.ts';

/** Images as Ollama wants them: base64 strings. Bytes are encoded; strings pass unchanged. */
export function encodeImages(call: string, images: ImageInput[] | undefined): string[] | undefined {
  if (images === undefined) return undefined;
  if (!Array.isArray(images)) throw new TypeError(`${call}: images must be an array`);
  return images.map((image, index) => {
    if (typeof image === 'string') return image;
    if (image instanceof Uint8Array) return toBase64(image);
    if (image instanceof ArrayBuffer) return toBase64(new Uint8Array(image));
    throw new TypeError(`${call}: images[${index}] must be a base64 string, a Uint8Array or an ArrayBuffer`);
  });
}

/** The messages with their images encoded, or undefined when none has images (the caller's
 * array is sent as it is); the caller's objects are never modified. */
export function encodeMessages(call: string, messages: Message[] | undefined): Message[] | undefined {
  if (messages === undefined) return undefined;
  if (!Array.isArray(messages)) throw new TypeError(`${call}: request.messages must be an array of messages`);
  let images = false;
  for (const [index, message] of messages.entries()) {
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      throw new TypeError(
        `${call}: request.messages[${index}] must be a message such as { role: 'user', content: 'Hi' }, got ${message === null ? 'null' : Array.isArray(message) ? 'an array' : typeof message}. Nothing was sent.`,
      );
    }
    if (message.images !== undefined) images = true;
  }
  if (!images) return undefined;
  return messages.map((message) =>
    message?.images === undefined ? message : { ...message, images: encodeImages(call, message.images)! },
  );
}
