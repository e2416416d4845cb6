import { type RunResult, requireBinary, runToCompletion } from '@iotwire/interop';

export type ToolResult = RunResult;

/**
 * Runs libcoap's coap-client (a peer nobody here wrote) and collects its output: the `notls`
 * build by default, `openssl` (PSK, certificates) or `gnutls` (PSK, raw public keys) for coaps.
 */
export function coapClient(
  args: string[],
  options: { timeoutMs?: number; stdin?: Buffer; flavor?: 'notls' | 'openssl' | 'gnutls' } = {},
): Promise<ToolResult> {
  const name = `coap-client-${options.flavor ?? 'notls'}`;
  return runToCompletion(requireBinary(name), args, { name, timeoutMs: options.timeoutMs, stdin: options.stdin });
}
