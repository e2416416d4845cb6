/** Message types (RFC 7252 §3): the 2-bit T field. */
export const MessageType = {
  CON: 0,
  NON: 1,
  ACK: 2,
  RST: 3,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];
export type MessageTypeName = keyof typeof MessageType;

const TYPE_NAMES: readonly MessageTypeName[] = ['CON', 'NON', 'ACK', 'RST'];

/** `0` → `'CON'` and so on. */
export function messageTypeName(type: number): MessageTypeName {
  const n = TYPE_NAMES[type];
  if (n === undefined) throw new RangeError(`not a CoAP message type: ${type}`);
  return n;
}
