// Rendering the compliance report's page with the system's headless Chromium (Debian's
// `chromium`, installed by scripts/infra/install-chromium.sh; AUTHORITY_CHROMIUM names another
// binary): a PDF (A4, from the page's own `@page` rule) and, for tests, a PNG screenshot. Each
// run gets a throw-away profile directory, so concurrent runs never share a profile lock.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The Chromium binary: AUTHORITY_CHROMIUM, else `chromium` on the PATH. */
export function chromiumBinary(env: Record<string, string | undefined>): string {
  return env.AUTHORITY_CHROMIUM || 'chromium';
}

const RENDER_TIMEOUT_MS = 120_000;

async function runChromium(env: Record<string, string | undefined>, args: string[], htmlFile: string): Promise<void> {
  const profile = await mkdtemp(path.join(tmpdir(), 'authority-chromium-'));
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        chromiumBinary(env),
        [
          '--headless',
          // Root in containers has no user namespace for the sandbox; the page is our own report,
          // which the page's CSP keeps free of scripts and remote loads.
          '--no-sandbox',
          '--disable-gpu',
          '--disable-extensions',
          '--no-first-run',
          `--user-data-dir=${profile}`,
          ...args,
          pathToFileURL(path.resolve(htmlFile)).href,
        ],
        { timeout: RENDER_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 },
        (err, _stdout, stderr) => {
          if (!err) return resolve();
          const e = err as NodeJS.ErrnoException;
          reject(
            new Error(
              e.code === 'ENOENT'
                ? `${chromiumBinary(env)} not found: install Chromium (scripts/infra/install-chromium.sh, or apt-get install chromium) or set AUTHORITY_CHROMIUM`
                : `chromium failed: ${e.message}${stderr ? `\n${String(stderr).split('\n').slice(-5).join('\n')}` : ''}`,
            ),
          );
        },
      );
    });
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** Prints an HTML file to a PDF (page size and margins from the page's `@page` rule: A4). */
export async function printPdf(
  env: Record<string, string | undefined>,
  htmlFile: string,
  pdfFile: string,
): Promise<void> {
  await runChromium(env, ['--no-pdf-header-footer', `--print-to-pdf=${path.resolve(pdfFile)}`], htmlFile);
}

/** A PNG screenshot of an HTML file in a window of the given size (CSS pixels). */
export async function screenshotPng(
  env: Record<string, string | undefined>,
  htmlFile: string,
  pngFile: string,
  width: number,
  height: number,
): Promise<void> {
  await runChromium(
    env,
    ['--hide-scrollbars', `--window-size=${width},${height}`, `--screenshot=${path.resolve(pngFile)}`],
    htmlFile,
  );
}
