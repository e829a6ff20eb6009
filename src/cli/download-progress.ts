/**
 * What the CLI says while it downloads the instruments list: a line at once (a server that never
 * answers must not look like a hang), then one every few seconds until the download ends.
 */
import { DEFAULT_DOWNLOAD_TIMEOUT_MS } from '../instruments/download.js';

export const DOWNLOAD_REPORT_INTERVAL_MS = 5000;

export interface DownloadNotice {
  onDownloadStart(url: string): void;
  onProgress(received: number, total: number | undefined): void;
  /** Stops the periodic line (call when the download settles, either way). */
  stop(): void;
}

export function downloadNotice(
  say: (line: string) => void,
  intervalMs = DOWNLOAD_REPORT_INTERVAL_MS,
): DownloadNotice {
  let timer: NodeJS.Timeout | undefined;
  let received = 0;
  let startedAt = 0;
  return {
    onDownloadStart(url) {
      clearInterval(timer);
      received = 0;
      startedAt = Date.now();
      say(
        `downloading the instruments list from ${url} (gives up after ${DEFAULT_DOWNLOAD_TIMEOUT_MS / 1000} s; Ctrl-C to stop)...`,
      );
      timer = setInterval(() => {
        const seconds = Math.round((Date.now() - startedAt) / 1000);
        say(
          `still downloading the instruments list: ${seconds} s, ${(received / 1024).toFixed(0)} KiB so far`,
        );
      }, intervalMs);
      // Never the reason the process stays alive.
      timer.unref();
    },
    onProgress(bytes) {
      received = bytes;
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
