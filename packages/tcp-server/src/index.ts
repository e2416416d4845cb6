export { TcpServerError, TcpServerErrorCode } from './errors.js';
