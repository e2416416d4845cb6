export { MqttPacketError, ReasonCode } from './errors.js';
export { readVarint, VARINT_MAX, varintSize, writeVarint } from './varint.js';
