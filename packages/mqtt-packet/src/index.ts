export {
  MAX_PACKET_ID,
  MAX_PACKET_SIZE,
  MAX_REMAINING_LENGTH,
  PACKET_TYPE_NAMES,
  PacketType,
  type PacketTypeName,
  type ProtocolVersion,
  protocolNameFor,
  type QoS,
} from './constants.js';
export type { DecodeOptions, Side } from './decode.js';
export { Decoder, type DecoderOptions, decode, type PacketHandler } from './decoder.js';
export { encode, encodeInto, encodePublishFrames, packetSize } from './encode.js';
export { ErrorCode, type ErrorCodeValue, MqttPacketError } from './errors.js';
export {
  allowedProperties,
  isPropertyAllowed,
  PROPERTY_SPECS,
  type PropertyContext,
  PropertyId,
  type PropertySpec,
  type PropertyType,
  propertiesLength,
  propertiesSize,
} from './properties.js';
export { type DeliveryOptions, PublishTemplate } from './publish-template.js';
export {
  CONNACK_RETURN_CODE_NAMES,
  ConnackReturnCode,
  connackReturnCodeFor,
  isValidReasonCode,
  REASON_CODE_NAMES,
  ReasonCode,
  reasonCodeName,
  reasonCodesFor,
  SUBACK_RETURN_CODE_NAMES,
  SubackReturnCode,
  subackReturnCodeFor,
} from './reason-codes.js';
export {
  isValidTopicFilter,
  isValidTopicName,
  parseSharedSubscription,
  type SharedSubscription,
  type TopicFilterOptions,
  type TopicLimits,
  topicFilterProblem,
  topicMatches,
  topicNameProblem,
  validateTopicFilter,
  validateTopicName,
} from './topic.js';
export type * from './types.js';
export { readVarint, VARINT_MAX, varintSize, writeVarint } from './varint.js';
