/// <reference types="node" />
import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// `npm run dev` proxies the API to the engine (AITRADER_URL, default the
// shipped http://127.0.0.1:5621) or to the mock server (`npm run mock`,
// http://127.0.0.1:5622): AITRADER_URL=http://127.0.0.1:5622 npm run dev.
const target = process.env.AITRADER_URL ?? "http://127.0.0.1:5621";
// The engine refuses changes and /ws from a foreign Origin: the proxy
// presents the engine's own (the page is still only reachable on loopback).
const own = { changeOrigin: true, headers: { origin: target } };

export default defineConfig({
  plugins: [react()],
  // Relative asset paths: the page works wherever ui_dashboard mounts it.
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 900 },
  server: {
    host: "127.0.0.1",
    port: 5173,
    proxy: {
      "/api": { target, ...own },
      "/metrics": { target, ...own },
      "/ws": { target: target.replace(/^http/, "ws"), ws: true, ...own },
    },
  },
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
  },
});
