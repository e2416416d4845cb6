import { isCritical, isRegisteredOption, OptionNumber } from '@iotwire/coap-message';

/**
 * Critical options this implementation acts on. Registered critical options it does not
 * implement (OSCORE, EDHOC, Q-Block1/2) are unrecognised: a request carrying one gets 4.02, a
 * response carrying one is rejected (RFC 7252 §5.4.1). If-Match/If-None-Match reach the
 * handler, which evaluates them (4.12); Proxy-Uri/Proxy-Scheme get 5.05 from the server.
 */
const CRITICAL = new Set<number>([
  OptionNumber.IfMatch,
  OptionNumber.UriHost,
  OptionNumber.IfNoneMatch,
  OptionNumber.UriPort,
  OptionNumber.UriPath,
  OptionNumber.UriQuery,
  OptionNumber.Accept,
  OptionNumber.Block2,
  OptionNumber.Block1,
  OptionNumber.ProxyUri,
  OptionNumber.ProxyScheme,
]);

/** The recognised-option predicate for `checkOptions`, plus the application's extra numbers. */
export function recognizer(extra: readonly number[] | undefined): (n: number) => boolean {
  const more = new Set(extra ?? []);
  return (n) => (isCritical(n) ? CRITICAL.has(n) : isRegisteredOption(n)) || more.has(n);
}
