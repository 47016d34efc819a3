// The browser page's script: web/app.ts (with the SDK and mediasoup-client) bundled by esbuild when
// local mode starts, so the page always matches the checkout.
import { join } from 'node:path';
import { build } from 'esbuild';

export async function bundleWebApp(repo: string): Promise<string> {
  const result = await build({
    entryPoints: [join(repo, 'web/app.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
    sourcemap: 'inline',
  });
  return result.outputFiles[0]!.text;
}
