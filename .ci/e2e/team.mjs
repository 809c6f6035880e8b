// One server for a whole team, end to end: `powerbi-mcp sandbox` is the tenant (Entra ID and
// Power BI), started by .ci/run, whose settings this process runs with (NODE_EXTRA_CA_CERTS
// trusts its certificate). This script starts the servers and HAProxy itself and checks, with
// the official TypeScript SDK client and its OAuth support:
//
//  1. One server, `--http-auth entra`: the client discovers the authorization server from the
//     401, signs users in with the authorization code and PKCE (Entra has no dynamic client
//     registration: the client id is the one the sandbox registered), and each user sees their
//     own workspaces. No user's token reaches Power BI: the sandbox refuses such a token, the
//     calls succeed, and the server made one on-behalf-of exchange per user. 50 concurrent calls
//     by a user the server has not seen make one exchange.
//  2. Three replicas behind HAProxy (round robin, no affinity, health checks on /readyz):
//     300 calls by four users spread over all three with 0 failures; an export started on one
//     replica is finished on another and its file read from the third; a replica stopped with
//     SIGTERM in the middle of a run costs no call.
//
// Usage: node team.mjs /path/to/powerbi-mcp SERVER_PORT FRONTEND_PORT
// (the sandbox was given http://127.0.0.1:SERVER_PORT/mcp and http://127.0.0.1:FRONTEND_PORT/mcp
// as Application ID URIs, and http://127.0.0.1/callback as a redirect URI). Logs of the
// processes it started are printed only when a check fails.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [bin, serverPort, frontendPort] = process.argv.slice(2);
if (!bin || !serverPort || !frontendPort) {
  console.error("usage: node team.mjs /path/to/powerbi-mcp SERVER_PORT FRONTEND_PORT");
  process.exit(2);
}
const env = process.env;
for (const name of ["AZURE_AUTHORITY_HOST", "AZURE_TENANT_ID", "PBI_MCP_BASE_URL", "PBI_MCP_SANDBOX_PUBLIC_CLIENT_ID", "NODE_EXTRA_CA_CERTS"]) {
  if (!env[name]) {
    console.error(`${name} is not set: run with the settings powerbi-mcp sandbox printed`);
    process.exit(2);
  }
}
const work = mkdtempSync(join(tmpdir(), "pbi-team-"));
const users = {
  megan: "megan.bowen@contoso.com", // Finance, Sales Analytics; not Marketing
  adele: "adele.vance@contoso.com", // Marketing, Sales Analytics; not Finance
  diego: "diego.siciliani@contoso.com",
  lynne: "lynne.robbins@contoso.com",
};

// ---- processes: each logs to a file, printed only when a check fails

const procs = [];
function start(name, cmd, args, extraEnv = {}) {
  const log = join(work, `${name}.log`);
  const fd = openSync(log, "w");
  const child = spawn(cmd, args, { env: { ...env, ...extraEnv }, stdio: ["ignore", fd, fd] });
  const p = { name, child, log, exited: null };
  child.on("exit", (code, signal) => (p.exited = { code, signal }));
  procs.push(p);
  return p;
}
function stopAll() {
  for (const p of procs) if (!p.exited) try { p.child.kill("SIGKILL"); } catch {}
  rmSync(work, { recursive: true, force: true });
}
process.on("exit", stopAll);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(1));

function fail(msg) {
  for (const p of procs) {
    console.error(`---- ${p.name} (${p.exited ? `exited ${JSON.stringify(p.exited)}` : "running"}), last lines of its log:`);
    console.error(readFileSync(p.log, "utf8").split("\n").slice(-40).join("\n"));
  }
  console.error(`FAIL: ${msg}`);
  process.exit(1);
}
function check(cond, msg) {
  if (!cond) fail(msg);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// waitFor polls until cond holds; the deadline is a failsafe, never what a check measures.
async function waitFor(what, cond, failsafeMs = 60_000) {
  const until = Date.now() + failsafeMs;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > until) fail(`gave up waiting for ${what}`);
    await sleep(100);
  }
}
const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
const statusOf = (url) => fetch(url).then((r) => r.status, () => 0);

// A server: the app's settings come from the environment (the sandbox's output).
function startServer(name, port, metricsPort, publicURL, exportDir, extra = []) {
  const p = start(name, bin, ["--transport", "http", "--addr", `127.0.0.1:${port}`, "--http-auth", "entra", "--public-url", publicURL,
    "--metrics-addr", `127.0.0.1:${metricsPort}`, "--export-dir", exportDir, "--data-dir", join(work, `${name}-data`),
    "--audit-log", join(work, `${name}-audit.log`), "--log-format", "json", ...extra], { HOME: work });
  Object.assign(p, { port, url: `http://127.0.0.1:${port}/mcp`, metrics: `http://127.0.0.1:${metricsPort}/metrics` });
  return p;
}

// metric sums a Prometheus counter's samples whose labels include every one of want.
async function metric(server, name, want = {}) {
  const text = await (await fetch(server.metrics)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^(\w+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(want).every(([k, v]) => labels[k] === v)) sum += Number(m[3]);
  }
  return sum;
}
const oboRequests = (s) => metric(s, "powerbi_mcp_token_requests_total", { flow: "obo" });
const toolCalls = (s, outcome) => metric(s, "powerbi_mcp_tool_calls_total", outcome ? { outcome } : {});

// ---- the OAuth client: the TypeScript SDK's, with a provider for a pre-registered public client

// The "browser": Entra signs in the login_hint and redirects to the loopback redirect URI with
// the code, which is read from Location; nothing listens there.
class SignIn {
  constructor(user) {
    this.user = user;
    this.redirectUrl = `http://127.0.0.1:${33000 + Math.floor(Math.random() * 1000)}/callback`;
    this.authorizeURLs = [];
  }
  get clientMetadata() {
    return { client_name: "powerbi-mcp team e2e", redirect_uris: [this.redirectUrl], grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"], token_endpoint_auth_method: "none" };
  }
  clientInformation() { return { client_id: env.PBI_MCP_SANDBOX_PUBLIC_CLIENT_ID }; }
  tokens() { return this.saved; }
  saveTokens(tokens) { this.saved = tokens; }
  saveCodeVerifier(v) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
  async redirectToAuthorization(url) {
    this.authorizeURLs.push(new URL(url));
    url.searchParams.set("login_hint", this.user);
    const res = await fetch(url, { redirect: "manual" });
    const location = res.headers.get("location");
    if (res.status !== 302 || !location) throw new Error(`authorize answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const answer = new URL(location).searchParams;
    if (answer.get("error")) throw new Error(`authorize: ${answer.get("error")}: ${answer.get("error_description")}`);
    this.code = answer.get("code");
  }
}

const connect = async (url, auth) => {
  const client = new Client({ name: "powerbi-mcp-team-e2e", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: auth }));
  return client;
};

// signIn connects to url as user the way an MCP client does: the first request gets a 401, the
// SDK reads the protected resource metadata and the authorization server's, sends the user to
// the authorize endpoint, and exchanges the code; then it connects again with the token.
async function signIn(user, url) {
  const auth = new SignIn(user);
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: auth });
  try {
    await new Client({ name: "powerbi-mcp-team-e2e", version: "1.0.0" }).connect(transport);
    fail(`${user}: connected to ${url} without signing in`);
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) fail(`${user}: signing in at ${url}: ${e.stack ?? e}`);
  }
  await transport.finishAuth(auth.code);
  return { auth, client: await connect(url, auth) };
}

async function workspaces(client, who) {
  const res = await client.callTool({ name: "list_workspaces", arguments: {} });
  if (res.isError) throw new Error(`${who}: list_workspaces: ${res.content?.[0]?.text}`);
  return res.structuredContent.workspaces.map((w) => w.name).sort();
}

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

// ---- 1. one server

const s0 = startServer("server", serverPort, await freePort(), `http://127.0.0.1:${serverPort}/mcp`, join(work, "exports0"));
await waitFor("the server to be ready", async () => (await statusOf(`http://127.0.0.1:${s0.port}/readyz`)) === 200);

const megan = await signIn(users.megan, s0.url);
const authorize = megan.auth.authorizeURLs[0];
check(authorize?.origin === new URL(env.AZURE_AUTHORITY_HOST).origin && authorize.pathname === `/${env.AZURE_TENANT_ID}/oauth2/v2.0/authorize`,
  `the client was sent to ${authorize}, not the tenant's authorize endpoint the metadata names`);
check(authorize.searchParams.get("resource") === s0.url && authorize.searchParams.get("code_challenge_method") === "S256" &&
  authorize.searchParams.get("client_id") === env.PBI_MCP_SANDBOX_PUBLIC_CLIENT_ID,
  `the authorization request lacks the resource, PKCE or client id: ${authorize}`);
const meganSees = await workspaces(megan.client, users.megan);
check(meganSees.includes("Finance") && !meganSees.includes("Marketing"), `${users.megan} sees ${meganSees}: want Finance and not Marketing`);
console.log(`${users.megan} signed in (authorization code + PKCE, resource ${s0.url}) and sees ${meganSees.join(", ")}`);

// The sandbox, like Power BI, refuses a token for another audience: a caller's token passed
// through would fail every call.
const passthrough = await fetch(`${env.PBI_MCP_BASE_URL}/groups`, { headers: { Authorization: `Bearer ${megan.auth.tokens().access_token}` } });
check(passthrough.status === 401, `Power BI (the sandbox) answered a caller's own token with ${passthrough.status}, want 401`);

// Adele signs in; her first calls are 50 at once.
const adele = await signIn(users.adele, s0.url);
const before = await oboRequests(s0);
const burst = await Promise.allSettled(Array.from({ length: 50 }, () => workspaces(adele.client, users.adele)));
const failed = burst.filter((r) => r.status === "rejected");
check(failed.length === 0, `${failed.length} of Adele's 50 concurrent calls failed: ${failed[0]?.reason}`);
const adeleSees = burst[0].value;
check(burst.every((r) => r.value.join() === adeleSees.join()) && adeleSees.includes("Marketing") && !adeleSees.includes("Finance"),
  `${users.adele} sees ${adeleSees}: want Marketing and not Finance, in every call`);
const burstOBO = (await oboRequests(s0)) - before;
check(burstOBO === 1, `50 concurrent calls by one user made ${burstOBO} on-behalf-of requests, want 1`);
check(before === 1, `one call by Megan made ${before} on-behalf-of requests, want 1`);
check((await toolCalls(s0, "ok")) === 51, `the server counted ${await toolCalls(s0, "ok")} successful calls, want 51`);
console.log(`${users.adele} sees ${adeleSees.join(", ")}; her 50 concurrent calls made 1 on-behalf-of request; ` +
  `Power BI refuses a caller's own token (401), and every call reached it with an exchanged one`);
s0.child.kill("SIGTERM");

// ---- 2. three replicas behind HAProxy

const frontend = `http://127.0.0.1:${frontendPort}/mcp`;
const exportDir = join(work, "exports");
mkdirSync(exportDir);
// /readyz fails at once on SIGTERM; the drain outlasts HAProxy's check interval (1s) and the
// checks it takes to mark a server down (1) several times over.
const replicas = [];
for (let i = 1; i <= 3; i++) {
  replicas.push(startServer(`replica${i}`, await freePort(), await freePort(), frontend, exportDir, ["--drain", "4s", "--shutdown-grace", "30s"]));
}
const statsPort = await freePort();
const cfg = join(work, "haproxy.cfg");
writeFileSync(cfg, `global
  maxconn 1000

defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout check 2s
  # A request a replica could not take (connection refused or closed unanswered, as when one
  # stops) goes to another.
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response

frontend mcp
  bind 127.0.0.1:${frontendPort}
  default_backend replicas

backend replicas
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server check inter 1s fall 1 rise 1
${replicas.map((r, i) => `  server replica${i + 1} 127.0.0.1:${r.port}`).join("\n")}

listen stats
  bind 127.0.0.1:${statsPort}
  stats enable
  stats uri /stats
`);
const haproxy = start("haproxy", "haproxy", ["-db", "-f", cfg]);
// serverStates is HAProxy's view of each replica: status, last check, connection errors,
// retries and redispatches.
const serverStates = async () => {
  const csv = await (await fetch(`http://127.0.0.1:${statsPort}/stats;csv`)).text();
  return Object.fromEntries(csv.split("\n").filter((l) => l.startsWith("replicas,replica")).map((l) => l.split(","))
    .map((f) => [f[1], { status: f[17], check: `${f[36]}${f[37] ? "/" + f[37] : ""}`, econ: f[13], wretr: f[15], wredis: f[16] }]));
};
await waitFor("HAProxy to see the three replicas up", async () => {
  const st = await serverStates();
  return ["replica1", "replica2", "replica3"].every((r) => st[r]?.status === "UP");
});

// Four users sign in through the frontend, the URL their clients know.
const team = {};
for (const [name, upn] of Object.entries(users)) team[name] = await signIn(upn, frontend);
const callsBefore = await Promise.all(replicas.map((r) => toolCalls(r)));

// runCalls makes calls through the frontend, `concurrency` at a time, each by the next user, until
// enough(progress) says so; each must succeed and show the user's own workspaces. progress.n is
// the number of calls started so far.
const expected = { megan: meganSees.join(), adele: adeleSees.join() };
const callsBy = Object.fromEntries(Object.values(users).map((upn) => [upn, 0])); // through the frontend, for the audit check
async function runCalls(concurrency, enough) {
  const progress = { n: 0 };
  const failures = [];
  const names = Object.keys(team);
  const worker = async () => {
    while (!enough(progress)) {
      const who = names[progress.n++ % names.length];
      callsBy[users[who]]++;
      try {
        const seen = (await workspaces(team[who].client, who)).join();
        if (expected[who] && seen !== expected[who]) failures.push(`${who} saw ${seen}`);
      } catch (e) {
        failures.push(`${who}: ${e.message ?? e}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { n: progress.n, failures };
}

const spread = await runCalls(10, (p) => p.n >= 300);
check(spread.failures.length === 0, `${spread.failures.length} of 300 calls failed: ${spread.failures.slice(0, 3).join("; ")}`);
const perReplica = (await Promise.all(replicas.map((r) => toolCalls(r)))).map((c, i) => c - callsBefore[i]);
check(perReplica.reduce((a, b) => a + b, 0) === 300, `the replicas counted ${perReplica} calls, not 300 in all`);
// Round robin with no affinity: every replica takes its share, not one user per replica.
check(perReplica.every((c) => c >= 50), `300 calls through HAProxy reached the replicas ${perReplica} times: want each to serve at least 50`);
console.log(`300 calls by 4 users through HAProxy, 0 failed, served ${perReplica.join(" / ")} by the three replicas`);

// An export started on replica 1 and finished on replica 2, its file read on replica 3: the job
// lives in Power BI, the file on the shared export directory.
const on = await Promise.all(replicas.map((r) => connect(r.url, team.megan.auth)));
const exportArgs = { workspace: "Sales Analytics", report: "Sales Overview", format: "PDF" };
const started = await on[0].callTool({ name: "export_report", arguments: { ...exportArgs, timeout_seconds: 1 } });
check(!started.isError && started.structuredContent.status === "Running" && started.structuredContent.exportId,
  `export_report with a 1 s wait on replica 1: ${JSON.stringify(started.structuredContent ?? started.content)}`);
const exportId = started.structuredContent.exportId;
const finished = await on[1].callTool({ name: "export_report", arguments: { ...exportArgs, export_id: exportId } });
const file = finished.structuredContent?.file;
check(!finished.isError && finished.structuredContent.status === "Succeeded" && file?.uri,
  `export ${exportId} followed on replica 2: ${JSON.stringify(finished.structuredContent ?? finished.content)}`);
const read = await on[2].readResource({ uri: file.uri });
const blob = read.contents?.[0]?.blob;
check(blob && Buffer.from(blob, "base64").subarray(0, 5).toString() === "%PDF-" && Buffer.from(blob, "base64").length === file.bytes,
  `replica 3 read ${file.uri} as ${JSON.stringify(read.contents?.[0])?.slice(0, 200)}`);
check(readdirSync(exportDir).includes(file.name), `${file.name} is not in the shared export directory`);
await Promise.all(on.map((c) => c.close()));
console.log(`export ${exportId.slice(0, 12)}… started on replica 1, finished on replica 2, its ${file.bytes}-byte PDF read on replica 3`);

// Replica 3 is stopped with SIGTERM while calls go on, and the calls go on until it is gone
// and well after. What counts is that no call fails. How HAProxy took the replica out is
// reported, not checked, since it depends on timing: with the drain (4s) several check
// intervals (1s) long, HAProxy should see /readyz answer 503 (L7STS/503) while the replica still
// serves, and need no retry; a retry on another replica (retry-on, redispatch) is the backstop.
const victim = replicas[2];
let stoppedAt = null;
let signalled = false;
let takenOut = null; // HAProxy's view of replica 3 when it first stopped being UP
const watch = (async () => {
  while (!takenOut) {
    const st = (await serverStates().catch(() => ({}))).replica3;
    if (signalled && st && st.status !== "UP") takenOut = st;
    else await sleep(50);
  }
})();
const run = runCalls(8, (p) => {
  if (!signalled && p.n >= 60) {
    signalled = true;
    victim.child.kill("SIGTERM");
    // It has stopped once its listener is closed.
    (async () => {
      while ((await statusOf(`http://127.0.0.1:${victim.port}/healthz`)) !== 0) await sleep(50);
      stoppedAt = p.n;
    })();
  }
  return stoppedAt !== null && p.n >= stoppedAt + 60;
});
const failsafe = setTimeout(() => fail("the calls around the SIGTERM did not end"), 120_000);
const stopping = await run;
await watch;
clearTimeout(failsafe);
check(stopping.failures.length === 0, `${stopping.failures.length} of ${stopping.n} calls failed while replica 3 stopped: ${stopping.failures.slice(0, 3).join("; ")}`);
await waitFor("replica 3 to exit", async () => victim.exited !== null);
check(victim.exited.code === 0, `replica 3 exited ${JSON.stringify(victim.exited)} after SIGTERM, want 0`);
const after = (await serverStates()).replica3;
console.log(`${stopping.n} calls, 0 failed, while replica 3 drained and stopped on SIGTERM: the signal came at call 60, its listener ` +
  `closed by call ${stoppedAt}; HAProxy took it out on check ${takenOut.check} (${takenOut.status}), with ${after.econ} connection errors, ` +
  `${after.wretr} retries and ${after.wredis} redispatches to it`);

// Every call is in the replicas' audit logs, one line each naming its caller; no token is.
callsBy[users.megan] += 2; // the export's two calls
const audit = replicas.map((r) => readFileSync(join(work, `${r.name}-audit.log`), "utf8")).join("");
const lines = audit.trim().split("\n");
const auditedBy = {};
for (const l of lines) {
  const upn = JSON.parse(l).caller?.upn;
  auditedBy[upn] = (auditedBy[upn] ?? 0) + 1;
}
check(JSON.stringify(auditedBy, Object.keys(callsBy).sort()) === JSON.stringify(callsBy, Object.keys(callsBy).sort()) &&
  Object.keys(auditedBy).length === Object.keys(callsBy).length,
  `the replicas' audit logs name callers ${JSON.stringify(auditedBy)}; the calls were made by ${JSON.stringify(callsBy)}`);
for (const { auth } of Object.values(team)) check(!audit.includes(auth.tokens().access_token.split(".")[2]), "a caller's token is in the audit log");
console.log(`the replicas' audit logs hold one line for each of the ${lines.length} calls, naming its caller, and no caller's token`);

haproxy.child.kill("SIGTERM");
for (const r of replicas) if (!r.exited) r.child.kill("SIGTERM");
console.log(`team end to end: all checks passed in ${elapsed()}`);
