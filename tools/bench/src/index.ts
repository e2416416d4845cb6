export { fmt, type Measurement, markdownTable, measureSync, ratio } from './measure.js';
