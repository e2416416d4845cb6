export { normalizeAddress } from './access-list.js';
export { Connection, type ConnectionId, type RawDataHandler } from './connection.js';
export { TcpServerError, TcpServerErrorCode } from './errors.js';
export { Framer, type FrameSink, type FramingMode } from './framing.js';
export {
  type ConnectionRequest,
  type DroppedConnection,
  type SendStreamResult,
  type SslConnectionRequest,
  type SslStartMode,
  SslStartModes,
  TcpServer,
  type TcpServerEvents,
  type TcpServerOptions,
  type UseIPv6,
} from './server.js';
export { OK, type Status, statusOf } from './status.js';
