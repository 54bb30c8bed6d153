// The Reports view reads the REST API (/api/v1/reports, docs/api.md) with the signed-in
// supervisor's own token (a fresh one per request, as for socket connects): the figures
// are SQL over the stored record, so they come by request, not over the live socket.
export class ReportError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

async function call(getToken, path, params) {
  const token = await getToken();
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  let resp;
  try {
    resp = await fetch(`/api/v1${path}?${query}`, { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
  } catch {
    throw new ReportError("offline", "The server could not be reached. Try again.");
  }
  if (resp.ok) return resp;
  let body = null;
  try {
    body = await resp.json();
  } catch {
    // not JSON: say what the status says
  }
  const message = body && typeof body.message === "string" ? body.message : `The server answered HTTP ${resp.status}.`;
  throw new ReportError(body && body.code ? String(body.code) : "http", message);
}

export async function fetchReport(getToken, params) {
  return (await call(getToken, "/reports", params)).json();
}

export async function fetchReportCsv(getToken, params) {
  return (await call(getToken, "/reports.csv", params)).blob();
}
