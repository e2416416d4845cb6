export { checkLayers, LAYER_NAMES, LAYERS, ruleFor, SAME_LAYER_ALLOWED, type Violation } from './layers.js';
export { closure, installAndImport, pack, publicPackages, type WorkspacePackage } from './pack.js';
