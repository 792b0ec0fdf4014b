// Starts dev/mock-server.mjs on a free port for a test file, and stops it.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface Mock {
  url: string;
  port: number;
  token: string;
  proc: ChildProcess;
  stop: () => Promise<void>;
}

export function startMock(extra: string[] = [], port = 0): Promise<Mock> {
  const token = "test-token";
  const proc = spawn(process.execPath, [path.join(here, "..", "dev", "mock-server.mjs"), "--port", String(port), "--token", token, ...extra], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`mock did not start: ${out}`)), 10000);
    proc.on("exit", (code) => reject(new Error(`mock exited ${String(code)}: ${out}`)));
    proc.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /mock listening on (http:\/\/[\d.]+:(\d+))/.exec(out);
      if (m && m[1] && m[2]) {
        clearTimeout(timer);
        const stop = () =>
          new Promise<void>((res) => {
            if (proc.exitCode !== null) return res();
            proc.once("exit", () => res());
            proc.kill("SIGTERM");
          });
        resolve({ url: m[1], port: Number(m[2]), token, proc, stop });
      }
    });
  });
}

/** Waits for `cond` (polled every 20 ms) at most `ms`. */
export async function waitFor(cond: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
