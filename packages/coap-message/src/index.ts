export {
  type BlockValue,
  blockOffset,
  blockOption,
  blockSize,
  decodeBlock,
  decodeBlockOption,
  encodeBlock,
  MAX_BLOCK_NUM,
  szxFromSize,
} from './block.js';
export { checkOptions, isRegisteredOption, type OptionCheck } from './check-options.js';
export {
  type CodeNumber,
  type CodeString,
  codeClass,
  codeDetail,
  codeFromString,
  codeName,
  codeToString,
  isRequestCode,
  isResponseCode,
  isSignalingCode,
  Method,
  type MethodName,
  methodName,
  normalizeResponseCode,
  ResponseCode,
  toCodeNumber,
} from './codes.js';
export { ContentFormat, contentFormatOf, mediaType } from './content-formats.js';
export { decode, decodeHeader, type MessageHeader } from './decode.js';
export { encode, encodedLength, encodeEmpty, encodeInto } from './encode.js';
export { CoapMessageError, type CoapMessageErrorCode, type PartialHeader } from './errors.js';
export { filterLinks, formatLinks, type Link, type LinkAttributeValue, parseLinks } from './link-format.js';
export type { CoapMessage, CoapOption, DecodedMessage, DecodedOption } from './message.js';
export { NoResponse, suppressesResponse } from './no-response.js';
export {
  decodeUint,
  emptyOption,
  encodeUint,
  fromHex,
  getOption,
  getOptions,
  getStringOption,
  getStringOptions,
  getUintOption,
  hasOption,
  opaqueOption,
  stringOption,
  toHex,
  uintLength,
  uintOption,
  utf8,
} from './option-values.js';
export {
  isCritical,
  isNoCacheKey,
  isUnsafe,
  OPTION_DEFINITIONS,
  type OptionDefinition,
  type OptionFormat,
  OptionNumber,
  optionName,
  optionNumberByName,
} from './options.js';
export {
  type CoapTcpMessage,
  DEFAULT_MAX_MESSAGE_SIZE,
  type DecodedTcpMessage,
  decodeTcpFrame,
  decodeWs,
  encodeTcp,
  encodeWs,
  SignalCode,
  SignalOption,
  signalOptionName,
  TcpFrameReader,
} from './tcp.js';
export { MessageType, type MessageTypeName, messageTypeName } from './types.js';
export {
  type CoapScheme,
  type CoapUri,
  DEFAULT_PORTS,
  encodePathSegment,
  encodeQueryArgument,
  formatUri,
  joinPath,
  optionsToUri,
  parseUri,
  percentDecode,
  splitPath,
  uriToOptions,
} from './uri.js';
