/**
 * The password and ACL files of the configuration: loading them at start (a bad line is a
 * start-up error naming file and line), and re-reading them on SIGHUP (a bad file keeps the
 * rules in force).
 */
import { AclFile, aclAuthorization, PasswordFile, type PasswordFileHook, passwordFileAuth } from '@iotwire/mqtt-broker';
import type { AccessControl } from './access.js';
import type { BrokerConfig } from './config/schema.js';
import type { Logger } from './logger.js';

/** Anonymous access: as configured, else on without a password file and off with one. */
export function allowAnonymous(config: BrokerConfig): boolean {
  return config.auth.allowAnonymous ?? config.auth.passwordFile === undefined;
}

/** Loads the configured files into `access`. Throws `ERR_AUTH_FILE` (file and line) when one is invalid. */
export async function loadAccessFiles(config: BrokerConfig, access: AccessControl, log: Logger): Promise<void> {
  const { passwordFile, aclFile } = config.auth;
  if (passwordFile) {
    access.auth = passwordFileAuth(await PasswordFile.load(passwordFile), { allowAnonymous: allowAnonymous(config) });
    log.info({ file: passwordFile }, `authentication: password file ${passwordFile}`);
  }
  if (aclFile) {
    access.acl = aclAuthorization(await AclFile.load(aclFile));
    log.info({ file: aclFile }, `authorization: ACL file ${aclFile}`);
  }
  log.info({ allowAnonymous: allowAnonymous(config) }, `anonymous clients ${allowAnonymous(config) ? 'allowed' : 'refused'}`);
}

/**
 * SIGHUP: re-reads the files (Mosquitto does too, changed or not), switches to other files
 * when the paths changed, drops them when removed. Returns what was applied; failures are
 * logged and leave the previous rules in force.
 */
export async function reloadAccessFiles(next: BrokerConfig, access: AccessControl, log: Logger): Promise<string[]> {
  const applied: string[] = [];
  const { passwordFile, aclFile } = next.auth;
  try {
    if (!passwordFile) {
      if (access.auth) applied.push('auth.passwordFile (removed)');
      access.auth = undefined;
    } else if (access.auth && access.auth.file.path === passwordFile) {
      await access.auth.file.reload();
      applied.push('auth.passwordFile (re-read)');
    } else {
      const hook: PasswordFileHook = passwordFileAuth(await PasswordFile.load(passwordFile), { allowAnonymous: allowAnonymous(next) });
      access.auth = hook;
      applied.push('auth.passwordFile');
    }
    if (access.auth) access.auth.allowAnonymous = allowAnonymous(next);
  } catch (err) {
    log.error({ file: passwordFile }, `reload: password file refused, the previous one stays: ${(err as Error).message}`);
  }
  try {
    if (!aclFile) {
      if (access.acl) applied.push('auth.aclFile (removed)');
      access.acl = undefined;
    } else if (access.acl && access.acl.acl.path === aclFile) {
      await access.acl.acl.reload();
      applied.push('auth.aclFile (re-read)');
    } else {
      const acl = await AclFile.load(aclFile);
      if (access.acl) access.acl.acl = acl;
      else access.acl = aclAuthorization(acl);
      applied.push('auth.aclFile');
    }
  } catch (err) {
    log.error({ file: aclFile }, `reload: ACL file refused, the previous one stays: ${(err as Error).message}`);
  }
  return applied;
}
