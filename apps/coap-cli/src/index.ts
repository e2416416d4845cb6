export { CLIENT_HELP, type ClientArgs, parseClientArgs, parseOptionArg, parseServeArgs, SERVE_HELP, type ServeArgs } from './args.js';
export { COMMANDS, type Command, splitCommand, USAGE, UsageError } from './command.js';
export { createDemoServer, type DemoServer, type DemoServerOptions, exampleData, formatClock, INDEX_TEXT } from './demo-server.js';
export { type CliIo, EXIT, run } from './run.js';
