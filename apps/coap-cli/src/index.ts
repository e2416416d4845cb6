export {
  CLIENT_HELP,
  type ClientArgs,
  parseClientArgs,
  parseOptionArg,
  parseServeArgs,
  parseToken,
  SERVE_HELP,
  type ServeArgs,
} from './args.js';
export { type ClientCommand, COMMANDS, type Command, splitCommand, USAGE, UsageError } from './command.js';
export {
  createDemoServer,
  type DemoResourceOptions,
  type DemoServer,
  type DemoServerOptions,
  exampleData,
  formatClock,
  INDEX_TEXT,
  installDemoResources,
} from './demo-server.js';
export { contentFormatForFile, type DirectoryOptions, installDirectory } from './directory.js';
export { type CliIo, EXIT, run } from './run.js';
export { clientSecurity, hasSecurity, type SecurityFlags, serverSecurity } from './security.js';
export { Site } from './site.js';
