export { DEFAULT_TRANSMISSION, type DerivedTimes, deriveTimes, type TransmissionParameters } from './transmission.js';
