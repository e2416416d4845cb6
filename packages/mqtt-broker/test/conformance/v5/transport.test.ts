// MQTT 5.0 transports: §6 WebSocket and the ordered byte-stream requirement.
import { describe, it } from 'vitest';
import * as check from '../checks/transport.js';

const V = 5;

describe('5.0 transports', () => {
  it('[MQTT-6.0.0-4] the server selects the "mqtt" WebSocket subprotocol', () => check.wsSubprotocol());

  it('[MQTT-6.0.0-2] packets split over frames and several packets in one frame are both read', () => check.wsFraming(V));

  it('[MQTT-6.0.0-1] a text WebSocket frame closes the connection', () => check.wsTextFrameCloses(V));

  it('[MQTT-4.2-1] MQTT runs over an ordered, lossless byte stream (TCP and WebSocket): 200 messages in one write arrive complete and in order', () =>
    check.orderedByteStream(V));
});
