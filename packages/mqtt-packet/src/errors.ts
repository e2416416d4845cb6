/** MQTT 5 reason codes a decoder or validator can ask the receiver to answer with. */
export const ReasonCode = {
  MalformedPacket: 0x81,
  ProtocolError: 0x82,
  PacketTooLarge: 0x95,
} as const;

/** A typed codec error: `code` is stable; `reasonCode` is the MQTT 5 reason to answer with. */
export class MqttPacketError extends Error {
  override readonly name = 'MqttPacketError';
  constructor(
    readonly code: string,
    readonly reasonCode: number,
    message: string,
  ) {
    super(message);
  }
}
