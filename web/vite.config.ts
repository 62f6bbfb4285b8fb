import { defineConfig } from 'vite';

// The console is served by `stepwise serve` under /ui/; `npx vite web` proxies the API to a local server.
export default defineConfig({
  root: import.meta.dirname,
  base: '/ui/',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  server: { proxy: { '/v1': 'http://127.0.0.1:8080' } },
});
