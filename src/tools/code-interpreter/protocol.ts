/** The line-delimited JSON spoken between PythonSandbox (host) and the kernel (kernel.ts) in the jail. */

export const DATA_DIR = '/mnt/data';

export interface SandboxFile {
  /** Absolute path under /mnt/data. */
  path: string;
  bytes: Uint8Array;
}

export type KernelRequest =
  /** Writes (or appends) one chunk of an input file; problems show up in the next result's logs. */
  | { op: 'write'; path: string; data: string; append: boolean }
  | { op: 'run'; code: string };

export type KernelReply =
  | { type: 'ready' }
  | { type: 'result'; logs: string; error: boolean; images: string[]; files: { path: string; data: string }[] };

/** What one cell may send back, enforced by the kernel and checked again by the host. */
export interface KernelLimits {
  maxLogBytes: number;
  maxFiles: number;
  /** Total bytes of /mnt/data files returned by one call. */
  maxFileBytes: number;
  maxImages: number;
  /** Total bytes of the figures returned by one call. */
  maxImageBytes: number;
}
