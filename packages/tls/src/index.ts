export { generateSelfSigned, type PemKeyPair, type SelfSignedOptions } from './self-signed.js';
