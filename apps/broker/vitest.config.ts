import { createRequire } from 'node:module';
import { defineProject, mergeConfig } from 'vitest/config';
import { project } from '../../vitest.shared.js';

// MQTT.js (an interop peer) is loaded through vite, which would pick `ws`'s browser stub for
// its `require('ws')`: point `ws` at the Node entry.
const require = createRequire(import.meta.url);
const wsNode = require.resolve('ws');

export default mergeConfig(defineProject(project(import.meta.dirname)), defineProject({ resolve: { alias: { ws: wsNode } } }));
