import { spawn } from 'node:child_process';
import { requireBinary } from '@iotwire/interop';

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs libcoap's coap-client (a peer nobody here wrote) and collects its output: the `notls`
 * build by default, `openssl` (PSK, certificates) or `gnutls` (PSK, raw public keys) for coaps.
 */
export function coapClient(
  args: string[],
  options: { timeoutMs?: number; stdin?: Buffer; flavor?: 'notls' | 'openssl' | 'gnutls' } = {},
): Promise<ToolResult> {
  const bin = requireBinary(`coap-client-${options.flavor ?? 'notls'}`);
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`coap-client ${args.join(' ')} did not finish. stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (options.stdin) child.stdin.end(options.stdin);
    else child.stdin.end();
  });
}
