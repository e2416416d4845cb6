/** Bits of the No-Response option (RFC 7967 §2.1). */
export const NoResponse = {
  /** Not interested in 2.xx responses. */
  Success: 2,
  /** Not interested in 4.xx responses. */
  ClientError: 8,
  /** Not interested in 5.xx responses. */
  ServerError: 16,
} as const;

/**
 * True if a request whose No-Response value is `value` asked not to receive a response with
 * `code`. A value of 0 means "interested in all responses".
 */
export function suppressesResponse(value: number | undefined, code: number): boolean {
  if (value === undefined || value === 0) return false;
  const c = code >> 5;
  if (c === 2) return (value & NoResponse.Success) !== 0;
  if (c === 4) return (value & NoResponse.ClientError) !== 0;
  if (c === 5) return (value & NoResponse.ServerError) !== 0;
  return false;
}
