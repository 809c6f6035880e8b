import { readFileSync } from "node:fs";
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
const tools = JSON.parse(readFileSync("/tmp/lean/all.json"));
const r = tools.map((x) => [countTokens(x.description), x.name, x.description]).sort((a, b) => b[0] - a[0]);
for (const x of r.slice(+process.argv[2], +process.argv[3])) console.log(`## ${x[1]} (${x[0]})\n${x[2]}`);
