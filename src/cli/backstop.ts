/**
 * The last step of the 2 s stop backstop (main.ts). `process.exit` waits for libuv's thread pool to
 * finish; a file-system write stuck on a pipe or FIFO whose reader never reads never finishes, so the
 * process would stay alive after saying it is exiting (checked: Node 20-24 on Linux). When such a
 * request is pending, the process kills itself with SIGKILL instead: the supervisor then sees 137
 * rather than 0, but the stop promised within 2 s is kept. `record --out` refuses pipes for this reason;
 * this covers whatever else might block a pool thread.
 */

/** Resource names `process.getActiveResourcesInfo()` gives for requests running on the thread pool. */
const POOL_REQUESTS = new Set(['FSReqCallback', 'FSReqPromise', 'GetAddrInfoReqWrap', 'GetNameInfoReqWrap']);

export interface BackstopProcess {
  getActiveResourcesInfo(): string[];
  exit(code: number): void;
  kill(pid: number, signal: NodeJS.Signals): void;
  pid: number;
}

/** Exits with `code`, or with SIGKILL when a thread-pool request could block `exit`. */
export function backstopExit(code: number, proc: BackstopProcess = process): void {
  if (proc.getActiveResourcesInfo().some((name) => POOL_REQUESTS.has(name))) {
    proc.kill(proc.pid, 'SIGKILL');
    return;
  }
  proc.exit(code);
}
