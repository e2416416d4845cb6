/** A typed CoAP codec error with a stable `code`. */
export class CoapMessageError extends Error {
  override readonly name = 'CoapMessageError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
