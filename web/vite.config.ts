/// <reference types="node" />
import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// `npm run dev` proxies the API to the engine (AITRADER_URL, default the
// shipped http://127.0.0.1:5621) or to the mock server (`npm run mock`,
// http://127.0.0.1:5622): AITRADER_URL=http://127.0.0.1:5622 npm run dev.
const target = process.env.AITRADER_URL ?? "http://127.0.0.1:5621";

export default defineConfig({
  plugins: [react()],
  // Relative asset paths: the page works wherever ui_dashboard mounts it.
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 900 },
  server: {
    host: "127.0.0.1",
    port: 5173,
    proxy: {
      "/api": { target, changeOrigin: false },
      "/metrics": { target },
      "/ws": { target: target.replace(/^http/, "ws"), ws: true },
    },
  },
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
  },
});
