// The token budget of the tool list: a model pays for every tool definition in every turn, so
// the tools/list answer is held to a budget. It starts the server over stdio (the default
// toolsets, then --toolsets all), counts the o200k_base tokens of the JSON of the `tools` array
// tools/list returns, prints the figures and fails above the budgets.
//
// Usage: node tokens.mjs /path/to/powerbi-mcp
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";

const budgets = [
  { name: "default toolsets", args: [], max: 8000 },
  { name: "all toolsets", args: ["--toolsets", "all"], max: 32000 },
];

const bin = process.argv[2];
if (!bin) {
  console.error("usage: node tokens.mjs /path/to/powerbi-mcp");
  process.exit(2);
}

let failed = false;
for (const b of budgets) {
  const client = new Client({ name: "tokens", version: "1.0.0" });
  await client.connect(new StdioClientTransport({ command: bin, args: ["--sandbox", ...b.args], stderr: "ignore" }));
  const { tools } = await client.listTools();
  await client.close();
  const json = JSON.stringify(tools);
  const tokens = countTokens(json);
  const ok = tokens <= b.max;
  failed ||= !ok;
  console.log(`${ok ? "ok" : "not ok"} - ${b.name}: ${tools.length} tools, ${json.length} bytes, ${tokens} tokens (budget ${b.max})`);
}
process.exit(failed ? 1 : 0);
