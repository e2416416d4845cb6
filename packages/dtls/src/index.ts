export {
  ContentType,
  DTLS_1_0,
  DTLS_1_2,
  RECORD_HEADER_SIZE,
  type RecordHeader,
  readRecordHeader,
  writeRecordHeader,
} from './record-header.js';
