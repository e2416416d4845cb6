export { type CodeNumber, type CodeString, codeClass, codeFromString, codeToString } from './codes.js';
export { CoapMessageError } from './errors.js';
