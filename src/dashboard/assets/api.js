// The session and the calls to the control plane. State-changing calls carry the CSRF token.

export const state = {
  me: null,
  csrf: '',
  view: 'approvals',
  auditNext: undefined,
  feed: 0,
};
const ACT_ROLES = ['approver', 'admin'];

/** Called when the server says the session is gone (401): the app shows the login form. */
let onSignedOut = () => {};
export function whenSignedOut(fn) {
  onSignedOut = fn;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-warden-csrf'] = state.csrf;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    if (res.status === 401 && path !== '/v1/session') onSignedOut();
    throw new ApiError(res.status, data.error?.code ?? 'http.error', data.error?.message ?? res.statusText);
  }
  return data;
}

export const canVote = () => ACT_ROLES.includes(state.me?.role);
export const canOperate = () => state.me?.role === 'admin';
export const viewerTitle = (what) => `your role \`${state.me?.role}\` cannot ${what}`;
