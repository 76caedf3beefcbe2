import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { equalSecrets } from '../../lib/equal-secrets.js';
import { type App, type AppContext, fail, type ServerDeps } from '../http.js';
import { CSRF_HEADER, SESSION_COOKIE } from '../session.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Everything local: no CDN, no inline script, nothing framed. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-cache',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * Where the dashboard's files are: `src/dashboard/assets` next to the sources, or the copy that
 * `npm run build` puts beside the compiled module (`dist/src/dashboard/assets`).
 */
export function dashboardAssetsDir(): string {
  const dir = fileURLToPath(new URL('../../dashboard/assets/', import.meta.url));
  if (!existsSync(join(dir, 'index.html'))) {
    throw new Error(
      `the dashboard's files are missing from \`${dir}\`: run \`npm run build\` (it copies src/dashboard/assets)`,
    );
  }
  return dir;
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    assets.set(name, {
      body,
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    });
  }
  // uPlot, the charts' library, from its package: no CDN, no copy to keep in step.
  const uplot = dirname(createRequire(import.meta.url).resolve('uplot'));
  for (const [name, file] of [
    ['uplot.js', 'uPlot.esm.js'],
    ['uplot.css', 'uPlot.min.css'],
  ] as const) {
    const body = readFileSync(join(uplot, file));
    assets.set(name, {
      body,
      type: TYPES[extname(name)] as string,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    });
  }
  return assets;
}

/**
 * The operator dashboard (plain HTML, CSS and ES modules, no build step) at `/dashboard/`, and its
 * login: `POST /v1/session` exchanges a token (in the body, never a URL) for an HttpOnly,
 * SameSite=Strict session cookie and returns the CSRF token the page sends back on every change.
 */
export function registerDashboardRoutes(app: App, { tokens, sessions }: ServerDeps): void {
  const assets = loadAssets(dashboardAssetsDir());
  const send = (c: AppContext, name: string) => {
    const asset = assets.get(name);
    if (!asset) return fail(c, 'http.not-found', `no dashboard file \`${name}\``);
    if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, { etag: asset.etag });
    return c.body(new Uint8Array(asset.body), 200, {
      ...SECURITY_HEADERS,
      'content-type': asset.type,
      etag: asset.etag,
    });
  };
  app.get('/', (c) => c.redirect('/dashboard/', 302));
  app.get('/dashboard', (c) => c.redirect('/dashboard/', 302));
  app.get('/dashboard/', (c) => send(c, 'index.html'));
  app.get('/dashboard/:file{[a-z0-9-]+\\.(js|css|svg|png)}', (c) => send(c, c.req.param('file')));

  app.post('/v1/session', async (c) => {
    if (!sameOrigin(c)) {
      return fail(c, 'auth.csrf', 'sign in from the dashboard itself (the `Origin` must be this server)');
    }
    let token: unknown;
    try {
      token = ((await c.req.json()) as { token?: unknown }).token;
    } catch {
      token = undefined;
    }
    const principal = typeof token === 'string' ? tokens.authenticate(token.trim()) : undefined;
    if (!principal) return fail(c, 'auth.invalid-token', 'that token is not known to this server');
    if (principal.role === 'agent') {
      return fail(
        c,
        'auth.forbidden',
        'agent tokens cannot sign in to the dashboard; use an approver, admin or viewer token',
      );
    }
    const session = sessions.create(principal);
    setCookie(c, SESSION_COOKIE, session.id, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      secure: new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https',
      maxAge: 12 * 60 * 60,
    });
    return c.json({ name: principal.name, role: principal.role, csrf: session.csrf });
  });

  app.get('/v1/session', (c) => {
    const session = sessions.get(getCookie(c, SESSION_COOKIE));
    if (!session) return fail(c, 'auth.missing-token', 'not signed in');
    return c.json({ name: session.principal.name, role: session.principal.role, csrf: session.csrf });
  });

  app.delete('/v1/session', (c) => {
    const id = getCookie(c, SESSION_COOKIE);
    const session = sessions.get(id);
    if (session && (!sameOrigin(c) || !equalSecrets(c.req.header(CSRF_HEADER), session.csrf))) {
      return fail(c, 'auth.csrf', 'sign out from the dashboard itself');
    }
    sessions.delete(id);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.json({ signedOut: true });
  });
}

function sameOrigin(c: AppContext): boolean {
  const origin = c.req.header('origin');
  const host = c.req.header('host');
  if (!origin || !host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
