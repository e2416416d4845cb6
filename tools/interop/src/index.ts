export { type AedesPeer, startAedes } from './aedes.js';
export { findBinary, PEER_PACKAGES, requireBinary } from './binaries.js';
export { PeerUnavailableError } from './errors.js';
export { type LibcoapFlavor, type LibcoapPeer, type LibcoapServerOptions, startLibcoapServer } from './libcoap.js';
export { type MosquittoOptions, type MosquittoPeer, type MosquittoTlsOptions, startMosquitto } from './mosquitto.js';
export {
  type OpensslDtlsServerOptions,
  type OpensslPeer,
  startOpensslDtlsClient,
  startOpensslDtlsServer,
  startOpensslTlsClient,
} from './openssl.js';
export { makeTestPki, type TestPki } from './pki.js';
export { freePort, type PortKind } from './ports.js';
export { coapPing, tcpOpen, udpExchange } from './probes.js';
export { PeerProcess, type PeerProcessOptions, type RunResult, runToCompletion, sleep, startPeer } from './process.js';
export { type DanteOptions, type ProxyCredentials, type ProxyPeer, startDante, startTinyproxy, type TinyproxyOptions } from './proxies.js';
export { type RedisPeer, startRedis } from './redis.js';
