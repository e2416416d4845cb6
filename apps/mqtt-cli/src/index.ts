export { COMMANDS, type Command, splitCommand, USAGE } from './command.js';
