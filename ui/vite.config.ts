import { defineConfig } from "vitest/config";

// No framework plugin: esbuild compiles the JSX for Preact directly (see tsconfig.json).
export default defineConfig({
  // Relative asset URLs, so dist/ can be served under any prefix (/assets/ui/ on the server,
  // tauri:// in the desktop app).
  base: "./",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    target: ["es2022", "safari16"],
    sourcemap: true,
  },
  server: {
    // `SAMLA_SERVER=http://127.0.0.1:8080 npm run dev` proxies the signalling socket and the
    // REST API to a local samla-server.
    proxy: process.env.SAMLA_SERVER
      ? {
          "/ws": { target: process.env.SAMLA_SERVER, ws: true },
          "/api": { target: process.env.SAMLA_SERVER },
        }
      : undefined,
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
