/** The monitor page: one HTML file carried in the bundle as text, with its style and script inline. */
import { createHash } from "node:crypto";
import html from "./page.html" with { type: "text" };

/** The page and the Content-Security-Policy that lets only its own inline style and script run. */
export interface MonitorPage {
  readonly html: string;
  readonly csp: string;
}

let page: MonitorPage | undefined;

/** The hash CSP expects for an inline element's text. */
function hashOf(element: "style" | "script"): string {
  const text = new RegExp(`<${element}>([\\s\\S]*?)</${element}>`).exec(html)?.[1];
  if (text === undefined) throw new Error(`the monitor page has no <${element}>`);
  return `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
}

/**
 * The page, built once. The policy allows nothing from elsewhere: no third-party request can leave
 * the page, and an injected script or style would not run.
 */
export function monitorPage(): MonitorPage {
  page ??= {
    html,
    csp: [
      "default-src 'none'",
      `script-src ${hashOf("script")}`,
      `style-src ${hashOf("style")}`,
      "connect-src 'self'",
      "img-src data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
  };
  return page;
}
