// Injected into the browser bundle: code that uses the global `Buffer` gets this one.
export { Buffer } from 'buffer';
