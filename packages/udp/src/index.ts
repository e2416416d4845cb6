export type { DatagramEndpoint, DatagramEndpointEvents, DatagramInfo, PeerAddress, TypedEvents } from './endpoint.js';
export { peerKey } from './endpoint.js';
export { UdpError, type UdpErrorCode } from './errors.js';
export { UdpEndpoint, type UdpEndpointOptions } from './udp-endpoint.js';
