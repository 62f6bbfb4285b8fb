/**
 * The bubblewrap command line that starts one jailed Python session: its own user, pid, network,
 * ipc, uts and mount namespaces, an unprivileged uid, only read-only system directories, private
 * size-capped tmpfs at /tmp and /mnt/data, and rlimits applied by prlimit before Python starts.
 */
export const PYTHON = '/usr/bin/python3';
const PRLIMIT = '/usr/bin/prlimit';
const SETPRIV = '/usr/bin/setpriv';

/** Host uid and gid the jail runs as when the server is root: RLIMIT_NPROC does not bind root. */
const NOBODY = 65534;
/** The uid and gid the code sees inside. */
const JAIL_ID = 1000;
const MB = 1024 * 1024;

/** What the interpreter needs of /etc; nothing else of the host's /etc is visible. */
const ETC_FILES = ['/etc/alternatives', '/etc/matplotlibrc', '/etc/ld.so.cache', '/etc/fonts', '/etc/localtime', '/etc/mime.types'];

export interface JailLimits {
  /** Address space of each process, and (with the data and /tmp caps) the session's cgroup memory. */
  memoryMb: number;
  /** Size of the /mnt/data tmpfs, which is also the largest file. */
  dataMb: number;
  /** CPU seconds each process may use over its life; the per-call wall-clock limit comes first. */
  cpuSeconds: number;
  processes: number;
  openFiles: number;
}

/** Size of each of the jail's scratch tmpfs, /tmp and /dev/shm. */
export const TMP_MB = 64;

/** The fds bwrap gets besides stdio: it reports its child's pid on one, and waits on the other. */
export const INFO_FD = 3;
export const BLOCK_FD = 4;

/**
 * The program and arguments that start `command` in a jail. setpriv makes bubblewrap die with the
 * server (SIGKILL included), and bubblewrap's --die-with-parent takes the jail with it: a session
 * stopped between calls would otherwise never notice that the server is gone.
 */
export function jailCommand(bwrap: string, limits: JailLimits, command: string[]): [string, string[]] {
  return [SETPRIV, ['--pdeathsig', 'KILL', '--', bwrap, ...jailArgs(limits, command)]];
}

function jailArgs(limits: JailLimits, command: string[]): string[] {
  const etc = ETC_FILES.flatMap((path) => ['--ro-bind-try', path, path]);
  const rlimits = [
    `--as=${limits.memoryMb * MB}`,
    `--cpu=${limits.cpuSeconds}`,
    `--fsize=${limits.dataMb * MB}`,
    `--nofile=${limits.openFiles}`,
    `--nproc=${limits.processes}`,
    // 0 is ignored when the host pipes core dumps to a program (apport, systemd-coredump); 1 is not.
    '--core=1',
  ];
  return [
    '--unshare-user', '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
    '--disable-userns',
    '--uid', String(JAIL_ID), '--gid', String(JAIL_ID), '--hostname', 'sandbox',
    '--die-with-parent', '--new-session', '--clearenv',
    '--setenv', 'PATH', '/usr/bin:/bin', '--setenv', 'HOME', '/tmp', '--setenv', 'LANG', 'C.UTF-8', '--setenv', 'MPLBACKEND', 'Agg',
    // glibc reserves 64 MiB of address space per thread's malloc arena, which the address-space limit would count.
    '--setenv', 'MALLOC_ARENA_MAX', '2',
    '--ro-bind', '/usr', '/usr',
    // Local installs are the host's own (tools, their configs and tokens); Debian's Python needs none.
    '--size', '4096', '--tmpfs', '/usr/local', '--remount-ro', '/usr/local',
    '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/sbin', '/sbin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64',
    ...etc,
    '--proc', '/proc', '--dev', '/dev',
    '--size', String(TMP_MB * MB), '--tmpfs', '/tmp',
    '--size', String(TMP_MB * MB), '--tmpfs', '/dev/shm',
    '--size', String(limits.dataMb * MB), '--tmpfs', '/mnt/data',
    // bubblewrap's own tmpfs at / and /dev are as large as half the host's memory: read-only, once set up.
    '--remount-ro', '/dev', '--remount-ro', '/',
    '--chdir', '/mnt/data',
    '--info-fd', String(INFO_FD), '--block-fd', String(BLOCK_FD),
    PRLIMIT, ...rlimits, '--', ...command,
  ];
}

/** The host identity to start bubblewrap with: `nobody` when the server is root, else the server's own. */
export function jailHostUser(): { uid: number; gid: number } | undefined {
  return process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : undefined;
}
