/** MQTT protocol levels: 3 = MQTT 3.1 (`MQIsdp`), 4 = MQTT 3.1.1, 5 = MQTT 5.0. */
export type ProtocolVersion = 3 | 4 | 5;

/** Quality of Service levels. */
export type QoS = 0 | 1 | 2;

/** Control packet type numbers (high nibble of the first fixed-header byte). */
export const PacketType = {
  connect: 1,
  connack: 2,
  publish: 3,
  puback: 4,
  pubrec: 5,
  pubrel: 6,
  pubcomp: 7,
  subscribe: 8,
  suback: 9,
  unsubscribe: 10,
  unsuback: 11,
  pingreq: 12,
  pingresp: 13,
  disconnect: 14,
  auth: 15,
} as const;

/** Name of a control packet type, the discriminant of {@link Packet}. */
export type PacketTypeName = keyof typeof PacketType;

/** Packet type names indexed by type number (0 is reserved). */
export const PACKET_TYPE_NAMES: readonly (PacketTypeName | undefined)[] = [
  undefined,
  'connect',
  'connack',
  'publish',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'subscribe',
  'suback',
  'unsubscribe',
  'unsuback',
  'pingreq',
  'pingresp',
  'disconnect',
  'auth',
];

/**
 * The fixed-header flag nibble each type must carry, or -1 for PUBLISH (whose flags are DUP,
 * QoS and RETAIN) and for type 0 / AUTH-before-5 which are rejected separately.
 * MQTT 3.1.1 §2.2.2 Table 2.2 [MQTT-2.2.2-1]; MQTT 5.0 §2.1.3 Table 2-2 [MQTT-2.1.3-1].
 */
export const REQUIRED_FLAGS: readonly number[] = [-1, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0];

/** Largest Remaining Length (four-byte Variable Byte Integer). */
export const MAX_REMAINING_LENGTH = 268_435_455;

/** Largest total packet size: fixed-header byte + 4-byte Remaining Length + body. */
export const MAX_PACKET_SIZE = 1 + 4 + MAX_REMAINING_LENGTH;

/** Largest packet identifier; 0 is never valid where one is required [MQTT-2.3.1-1]. */
export const MAX_PACKET_ID = 65_535;

/** Protocol name for each level (3.1 used `MQIsdp`, 3.1.1 and 5.0 use `MQTT`). */
export function protocolNameFor(version: ProtocolVersion): 'MQTT' | 'MQIsdp' {
  return version === 3 ? 'MQIsdp' : 'MQTT';
}
