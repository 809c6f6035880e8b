// End-to-end checks: the real MCP Inspector CLI drives `powerbi-mcp --sandbox --toolsets all`
// over stdio, SSE and streamable HTTP, lists the tools and calls every one of them; and a
// sandbox with --auth device-code walks through signing in from inside the agent.
//
// Besides the checks written here, every file in calls/ adds calls: a JSON array of
// {"name", "tool", "args", "expect": "ok" | "error", "contains"? (a string, or strings that must
// all be there), "excludes"?, "transports"?}.
// Files run in name order. Over stdio each call meets a fresh sandbox; over SSE and HTTP one
// server serves every call in turn, so a call must succeed both on a fresh sandbox and after the
// calls before it. A read that checks what the write before it changed lists
// "transports": ["http", "sse"]: only a long-lived server still holds the write.
//
// The official TypeScript SDK's client then connects over each transport too (see sdkClient):
// protocol version, tools, structured results, progress, errors and confirmations.
//
// Usage: node e2e.mjs /path/to/powerbi-mcp
import { execFile, spawn } from "node:child_process";
import { request as httpsRequest } from "node:https";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const inspector = join(here, "node_modules", ".bin", "mcp-inspector");
const bin = process.argv[2];
if (!bin) {
  console.error("usage: node e2e.mjs /path/to/powerbi-mcp");
  process.exit(2);
}
// The Inspector keeps state under HOME; a fresh one keeps runs independent.
const home = mkdtempSync(join(tmpdir(), "pbi-e2e-home-"));

// Every tool the server defines, from the reviewed snapshots of the tool definitions.
const snaps = join(here, "..", "..", "tools", "testdata", "toolsnaps");
const expectedTools = readdirSync(snaps).flatMap((f) => JSON.parse(readFileSync(join(snaps, f)))).map((t) => t.name).sort();
const callsDir = join(here, "calls");
const extraCalls = readdirSync(callsDir).filter((f) => f.endsWith(".json")).sort()
  .flatMap((f) => JSON.parse(readFileSync(join(callsDir, f))).map((c) => ({ ...c, file: f })));
const magic = { PDF: "%PDF-", PPTX: "PK\u0003\u0004", PNG: "\u0089PNG" };
// The data directory tools read files from holds one small .pbix (a ZIP header) for import_file.
const dataDir = mkdtempSync(join(tmpdir(), "pbi-e2e-data-"));
writeFileSync(join(dataDir, "E2E Import.pbix"), Buffer.concat([Buffer.from("PK\u0003\u0004"), Buffer.alloc(4096)]));
let passed = 0;
let failed = 0;

function check(name, ok, detail) {
  if (ok) {
    passed++;
    console.log(`ok - ${name}`);
  } else {
    failed++;
    console.log(`not ok - ${name}: ${detail}`);
  }
}

// inspect runs one Inspector CLI command and returns its exit code and parsed JSON answer.
// A target with a log (stdio: the server's stderr goes there) shows the server's log of a
// failed command. A stdio command the Inspector gave up on (its 60 s request timeout) runs once
// more, saying so: each stdio command starts a fresh server, so the second one repeats nothing,
// and a server that hangs every time still fails.
async function inspect(target, method, extra = []) {
  const args = ["--cli", "--format", "json", "-q", "--method", method, ...extra, ...target];
  for (let attempt = 1; ; attempt++) {
    const logStart = target.log ? statSync(target.log, { throwIfNoEntry: false })?.size ?? 0 : 0;
    let r;
    try {
      const { stdout } = await run(inspector, args, { env: { ...process.env, HOME: home }, timeout: 120_000 });
      return { code: 0, out: JSON.parse(stdout) };
    } catch (err) {
      let out = null;
      try { out = JSON.parse(err.stdout); } catch { /* not JSON */ }
      r = { code: err.code ?? 1, out, stderr: String(err.stderr ?? err.message).slice(0, 500) };
    }
    if (!target.log || r.code === 5) return r; // 5: an isError result, which checks expect
    const log = readFileSync(target.log).subarray(logStart).toString().split("\n").slice(-40).join("\n  ");
    console.log(`# ${method} ${extra.join(" ").slice(0, 200)} failed (attempt ${attempt}); the server's log:\n  ${log}`);
    if (attempt > 1 || !r.stderr.includes("Request timed out")) return r;
    console.log("# the Inspector timed out: running the command once more");
  }
}

function callArgs(tool, args) {
  return ["--tool-name", tool, "--tool-args-json", JSON.stringify(args)];
}

// resultBudget is the server's default --max-result-bytes: no tool result's text, nor its
// structured content, may be longer.
const resultBudget = 32768;

// overBudget names the parts of a tools/call result longer than the budget.
function overBudget(result) {
  const parts = (result?.content ?? []).filter((c) => c.type === "text").map((c) => Buffer.byteLength(c.text));
  if (result?.structuredContent) parts.push(Buffer.byteLength(JSON.stringify(result.structuredContent)));
  return parts.filter((n) => n > resultBudget);
}

async function exercise(label, target, exportDir) {
  const oversize = [];
  const list = await inspect(target, "tools/list");
  const names = (list.out?.result?.tools ?? []).map((t) => t.name).sort();
  check(`${label}: tools/list names all ${expectedTools.length} tools`, JSON.stringify(names) === JSON.stringify(expectedTools), `${list.code} ${JSON.stringify(names)} ${list.stderr ?? ""}`);

  const ws = "Sales Analytics";
  const calls = [
    ["list_workspaces", {}],
    ["list_datasets", { workspace: ws }],
    ["list_reports", { workspace: ws }],
    ["refresh_dataset", { workspace: ws, dataset: "Sales", wait: true, timeout_seconds: 60 }],
    ["get_refresh_history", { workspace: ws, dataset: "Sales" }],
  ];
  for (const [tool, args] of calls) {
    const r = await inspect(target, "tools/call", callArgs(tool, args));
    const result = r.out?.result;
    check(`${label}: ${tool}`, r.code === 0 && result && !result.isError && result.structuredContent, `exit ${r.code} ${JSON.stringify(r.out).slice(0, 400)} ${r.stderr ?? ""}`);
    if (overBudget(result).length) oversize.push(`${tool}: ${overBudget(result)}`);
  }

  for (const format of ["PDF", "PPTX", "PNG"]) {
    // One page for PNG: a PNG export of several pages is a ZIP, as in Power BI.
    const args = { workspace: ws, report: "Sales Overview", format, ...(format === "PNG" ? { pages: ["ReportSection1"] } : {}) };
    const r = await inspect(target, "tools/call", callArgs("export_report", args));
    const file = r.out?.result?.structuredContent?.file;
    let head = "";
    try { head = readFileSync(file.path).subarray(0, 8).toString("latin1"); } catch { /* checked below */ }
    check(`${label}: export_report ${format} wrote a ${format} file in the export directory`,
      r.code === 0 && file && dirname(file.path) === exportDir && head.startsWith(magic[format]),
      `exit ${r.code} ${JSON.stringify(r.out).slice(0, 400)} ${r.stderr ?? ""} head=${JSON.stringify(head)}`);
  }

  // The error path: an unknown workspace is an isError result (Inspector exit code 5), not a crash.
  const bad = await inspect(target, "tools/call", callArgs("list_datasets", { workspace: "No Such Workspace" }));
  check(`${label}: an unknown workspace is an isError result`, bad.code === 5, `exit ${bad.code} ${JSON.stringify(bad.out)}`);

  for (const c of extraCalls) {
    if (c.transports && !c.transports.includes(label)) continue;
    const r = await inspect(target, "tools/call", callArgs(c.tool, c.args ?? {}));
    const result = r.out?.result;
    const answered = c.expect === "error" ? r.code === 5 : r.code === 0 && result && !result.isError;
    if (overBudget(result).length) oversize.push(`${c.file} ${c.tool}: ${overBudget(result)}`);
    const text = JSON.stringify(r.out ?? "");
    check(`${label}: ${c.file}: ${c.name ?? c.tool}`,
      answered && [c.contains ?? []].flat().every((want) => text.includes(want)) && (!c.excludes || !text.includes(c.excludes)),
      `exit ${r.code} ${text.slice(0, 500)} ${r.stderr ?? ""}`);
  }
  check(`${label}: no tool result's text or structured content is over ${resultBudget} bytes`, oversize.length === 0, oversize.join("; "));
}

async function waitHealthy(url) {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never answered`);
}

async function overHTTP(transport, port) {
  const exportDir = mkdtempSync(join(tmpdir(), `pbi-e2e-${transport}-`));
  const server = spawn(bin, ["--sandbox", "--toolsets", "all", "--transport", transport, "--addr", `127.0.0.1:${port}`], {
    env: { ...process.env, PBI_MCP_EXPORT_DIR: exportDir, PBI_MCP_DATA_DIR: dataDir },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    await waitHealthy(`http://127.0.0.1:${port}/healthz`);
    const path = transport === "sse" ? "/sse" : "/mcp";
    await exercise(transport, ["--server-url", `http://127.0.0.1:${port}${path}`, "--transport", transport], exportDir);
    const url = new URL(`http://127.0.0.1:${port}${path}`);
    await sdkClient(transport, () => transport === "sse" ? new SSEClientTransport(url) : new StreamableHTTPClientTransport(url));
  } finally {
    server.kill("SIGTERM");
    const code = await new Promise((r) => server.on("exit", (c) => r(c)));
    check(`${transport}: SIGTERM shuts the server down cleanly`, code === 0, `exit code ${code}`);
  }
}

// sdkClient drives the server with the official TypeScript SDK's client, as most agents built
// on it do. That client speaks the protocol up to 2025-11-25 and declares elicitation: over
// stdio the server asks it to confirm a deletion; over stateless HTTP and SSE no request from
// the server can reach it, so the confirm argument decides there.
async function sdkClient(label, makeTransport) {
  label = `${label} (TypeScript SDK)`;
  const asked = [];
  const client = new Client({ name: "powerbi-mcp-e2e", version: "1.0.0" }, { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    asked.push(req.params.message);
    return { action: "accept", content: { confirm: true } };
  });
  try {
    await client.connect(makeTransport());
  } catch (err) {
    check(`${label}: connects`, false, String(err));
    return;
  }
  try {
    const server = client.getServerVersion();
    check(`${label}: connects to powerbi-mcp`, server?.name === "powerbi-mcp", JSON.stringify(server));
    const { tools } = await client.listTools();
    check(`${label}: lists all ${expectedTools.length} tools`, tools.length === expectedTools.length, `${tools.length}`);

    const ws = await client.callTool({ name: "list_workspaces", arguments: {} });
    check(`${label}: list_workspaces answers structured content`,
      !ws.isError && ws.structuredContent?.workspaces?.some((w) => w.name === "Sales Analytics"), JSON.stringify(ws).slice(0, 300));

    const progress = [];
    const refresh = await client.callTool({ name: "refresh_dataset", arguments: { workspace: "Sales Analytics", dataset: "Sales", wait: true, timeout_seconds: 60 } },
      undefined, { onprogress: (p) => progress.push(p) });
    check(`${label}: refresh_dataset with wait sends progress while it runs`,
      !refresh.isError && progress.length > 0, `${progress.length} progress notifications; ${JSON.stringify(refresh).slice(0, 300)}`);

    await bigResults(label, client);

    const bad = await client.callTool({ name: "list_datasets", arguments: { workspace: "No Such Workspace" } });
    check(`${label}: an unknown workspace is an isError result that names it`,
      bad.isError && JSON.stringify(bad.content).includes("No Such Workspace"), JSON.stringify(bad).slice(0, 300));

    if (label.startsWith("stdio")) {
      const del = await client.callTool({ name: "delete_report", arguments: { workspace: "Marketing", report: "Campaign Draft" } });
      check(`${label}: delete_report asks the user, and deletes once they agree`,
        !del.isError && asked.length === 1 && asked[0].includes("Campaign Draft"), `asked ${JSON.stringify(asked)}; ${JSON.stringify(del).slice(0, 300)}`);
      const gone = await client.callTool({ name: "get_report", arguments: { workspace: "Marketing", report: "Campaign Draft" } });
      check(`${label}: the deleted report is gone`, gone.isError, JSON.stringify(gone).slice(0, 300));
    } else {
      const del = await client.callTool({ name: "delete_report", arguments: { workspace: "Sales Analytics", report: "Sales Overview" } });
      check(`${label}: delete_report without confirm changes nothing and says how to confirm`,
        del.isError && asked.length === 0 && JSON.stringify(del.content).includes("confirm: true"), `asked ${JSON.stringify(asked)}; ${JSON.stringify(del).slice(0, 300)}`);
    }
  } catch (err) {
    check(`${label}: every request answered`, false, String(err));
  } finally {
    await client.close();
  }
}

// bigResults checks what keeps large results out of the conversation: a DAX query over the
// sandbox's 12,000-row 'Order Lines' answers within the result budget and says it is truncated;
// skip continues where it stopped; output "csv" and export_report link their files, and
// resources/read returns the bytes, which a client on another machine has no other way to get.
async function bigResults(label, client) {
  const budget = 32 * 1024;
  const query = "EVALUATE 'Order Lines' ORDER BY 'Order Lines'[Order Id], 'Order Lines'[Line]";
  const args = { workspace: "Sales Analytics", dataset: "Sales", query };
  const first = await client.callTool({ name: "execute_dax_query", arguments: { ...args, max_rows: 100000 } });
  const firstText = first.content?.[0]?.text ?? "";
  const page = first.structuredContent ?? {};
  check(`${label}: execute_dax_query of 12,000 rows answers within ${budget} bytes and says it is truncated`,
    !first.isError && Buffer.byteLength(firstText) <= budget && page.truncated === true && page.totalRows === 12000 && page.nextSkip === page.rowCount && page.rowCount > 0,
    `${Buffer.byteLength(firstText)} bytes; ${JSON.stringify({ ...page, rows: page.rows?.length }).slice(0, 400)}`);

  const next = await client.callTool({ name: "execute_dax_query", arguments: { ...args, skip: page.nextSkip } });
  const rest = next.structuredContent ?? {};
  const [lastBefore, firstAfter] = [page.rows?.at(-1), rest.rows?.[0]];
  check(`${label}: execute_dax_query with skip = nextSkip returns the next rows`,
    !next.isError && rest.skipped === page.nextSkip && rest.rowCount > 0 && lastBefore && firstAfter &&
      `${firstAfter[0]}/${firstAfter[1]}` > `${lastBefore[0]}/${lastBefore[1]}`,
    `${JSON.stringify({ ...rest, rows: rest.rows?.slice(0, 2) }).slice(0, 400)} after ${JSON.stringify(lastBefore)}`);

  const csv = await client.callTool({ name: "execute_dax_query", arguments: { ...args, output: "csv" } });
  const csvLink = csv.content?.find((c) => c.type === "resource_link");
  let lines = [];
  let csvRead = null;
  if (csvLink) {
    try {
      csvRead = (await client.readResource({ uri: csvLink.uri })).contents?.[0];
      lines = (csvRead?.text ?? "").split("\r\n").filter((l) => l !== "");
    } catch (err) {
      csvRead = { error: String(err) };
    }
  }
  check(`${label}: execute_dax_query with output csv links a CSV file whose resources/read holds the header and all 12,000 rows`,
    !csv.isError && csvLink?.mimeType === "text/csv" && lines.length === 12001 && lines[0].startsWith("Order Lines[Order Id],"),
    `${JSON.stringify(csvLink)}; ${lines.length} lines; ${JSON.stringify(csvRead).slice(0, 300)}`);

  const pdf = await client.callTool({ name: "export_report", arguments: { workspace: "Sales Analytics", report: "Sales Overview", format: "PDF" } });
  const pdfLink = pdf.content?.find((c) => c.type === "resource_link");
  let head = "";
  if (pdfLink) {
    try {
      const content = (await client.readResource({ uri: pdfLink.uri })).contents?.[0];
      head = Buffer.from(content?.blob ?? "", "base64").subarray(0, 8).toString("latin1");
    } catch (err) {
      head = String(err);
    }
  }
  check(`${label}: export_report links its PDF, and resources/read returns it`,
    !pdf.isError && pdfLink?.mimeType === "application/pdf" && head.startsWith("%PDF-"),
    `${JSON.stringify(pdfLink)}; head ${JSON.stringify(head)}; ${JSON.stringify(pdf).slice(0, 300)}`);
}

// In-agent sign-in: with --auth device-code the first tool call answers with the sign-in
// instructions, the user completes them in a browser (here: the sandbox tenant's sign-in page,
// posted to as a browser would), and the next call succeeds on the same server.
async function deviceCodeSignIn(port) {
  const label = "device code";
  const cacheDir = mkdtempSync(join(tmpdir(), "pbi-e2e-cache-"));
  const server = spawn(bin, ["--sandbox", "--auth", "device-code", "--transport", "http", "--addr", `127.0.0.1:${port}`], {
    env: { ...process.env, PBI_MCP_TOKEN_CACHE_DIR: cacheDir, PBI_MCP_DATA_DIR: dataDir },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stdout = "";
  server.stdout.on("data", (d) => { stdout += d; });
  try {
    await waitHealthy(`http://127.0.0.1:${port}/healthz`);
    const target = ["--server-url", `http://127.0.0.1:${port}/mcp`, "--transport", "http"];
    const first = await inspect(target, "tools/call", callArgs("list_workspaces", {}));
    const text = first.out?.result?.content?.[0]?.text ?? "";
    const m = text.match(/open (https:\/\/\S+?) and enter (?:the )?code ([A-Z0-9-]+)/);
    check(`${label}: the first call answers with the sign-in link and code`, first.code === 5 && m, `exit ${first.code} ${JSON.stringify(first.out).slice(0, 500)}`);
    if (!m) return;
    const again = await inspect(target, "tools/call", callArgs("list_workspaces", {}));
    check(`${label}: a call before sign-in repeats the same code`, again.code === 5 && JSON.stringify(again.out).includes(m[2]), `exit ${again.code} ${JSON.stringify(again.out).slice(0, 300)}`);
    const status = await signInAsBrowser(m[1], m[2]);
    check(`${label}: the sandbox's sign-in page accepts the code`, status === 200, `HTTP ${status}`);
    let ok = null;
    for (let i = 0; i < 50 && !ok; i++) {
      const r = await inspect(target, "tools/call", callArgs("list_workspaces", {}));
      if (r.code === 0 && r.out?.result && !r.out.result.isError) ok = r;
      else await new Promise((res) => setTimeout(res, 200));
    }
    check(`${label}: after sign-in the next call succeeds without a restart`, ok && JSON.stringify(ok.out).includes("Sales Analytics"), "never succeeded");
  } finally {
    server.kill("SIGTERM");
    await new Promise((r) => server.on("exit", r));
    check(`${label}: nothing but MCP on stdout (HTTP transport: nothing at all)`, stdout === "", JSON.stringify(stdout.slice(0, 200)));
  }
}

// signInAsBrowser posts the code to the sign-in page. The sandbox tenant's certificate is its
// own, so this one request skips verification.
function signInAsBrowser(url, code) {
  return new Promise((resolve, reject) => {
    const body = new URLSearchParams({ code }).toString();
    const req = httpsRequest(url, { method: "POST", rejectUnauthorized: false,
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", reject);
    req.end(body);
  });
}

// The three transports are independent (own servers, ports and directories), so they run at
// the same time; each one's calls still run in order.
const stdioExports = mkdtempSync(join(tmpdir(), "pbi-e2e-stdio-"));
// The Inspector drops its server's stderr, so a shell sends it to a log the failures show.
const stdioLog = join(mkdtempSync(join(tmpdir(), "pbi-e2e-log-")), "stdio.log");
writeFileSync(stdioLog, "");
const stdioTarget = ["-e", `PBI_MCP_EXPORT_DIR=${stdioExports}`, "-e", `PBI_MCP_DATA_DIR=${dataDir}`, "-e", "PBI_MCP_LOG_LEVEL=debug",
  "--", "/bin/sh", "-c", `exec "$0" "$@" 2>>'${stdioLog}'`, bin, "--sandbox", "--toolsets", "all"];
stdioTarget.log = stdioLog;
await Promise.all([
  exercise("stdio", stdioTarget, stdioExports),
  overHTTP("http", 18000 + Math.floor(Math.random() * 1000)),
  overHTTP("sse", 19000 + Math.floor(Math.random() * 1000)),
  deviceCodeSignIn(20000 + Math.floor(Math.random() * 1000)),
  sdkClient("stdio", () => new StdioClientTransport({ command: bin, args: ["--sandbox", "--toolsets", "all"],
    env: { ...process.env, PBI_MCP_EXPORT_DIR: stdioExports, PBI_MCP_DATA_DIR: dataDir }, stderr: "ignore" })),
]);
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
