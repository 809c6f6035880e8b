// Offline checks of the Kubernetes manifests in docs/deploy/kubernetes: no cluster and no
// schema download, so this is no schema validation. It parses every file, then checks what the
// deployment depends on: the references between objects, the security settings, the probes and
// their timing against the drain, the shared export volume, the variables against the ones the
// binary knows, and the user and paths against the Dockerfiles. Then it starts the binary with
// each manifest's settings, as the image's entrypoint would but on loopback, and reads the
// OAuth metadata it serves: the settings are ones the server starts with.
//
//   node .ci/e2e/manifests.mjs <powerbi-mcp binary>
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { isDeepStrictEqual } from "node:util";
import { parseAllDocuments } from "yaml";

const root = new URL("../../", import.meta.url).pathname;
const dir = `${root}docs/deploy/kubernetes/`;
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

// The variables the binary reads, from its own help.
const help = execFileSync(process.argv[2], ["--help"], { encoding: "utf8" });
const knownVars = new Set(help.match(/PBI_MCP_[A-Z_]+/g));

// The final stage of each Dockerfile: what the manifests rely on, and the two must agree.
const finalStage = (file) => {
  const text = readFileSync(`${root}docs/deploy/${file}`, "utf8").replace(/\\\n\s*/g, "");
  const stage = text.split(/^FROM /m).at(-1);
  return stage.split("\n").filter((l) => /^(USER|ENV|VOLUME|EXPOSE|ENTRYPOINT) /.test(l)).join("\n");
};
const image = finalStage("Dockerfile");
check(image === finalStage("Dockerfile.binary"), "Dockerfile and Dockerfile.binary end in different final stages");
const uid = Number(/^USER (\d+)/m.exec(image)?.[1]);
check(uid > 0, "the image's USER is not a numeric non-root user");
const exportDir = /PBI_MCP_EXPORT_DIR=(\S+)/.exec(image)?.[1];

const seconds = (d) => {
  const m = /^(\d+)s$/.exec(d ?? "");
  return m ? Number(m[1]) : NaN;
};

const deployments = {};
const starts = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml"))) {
  const docs = parseAllDocuments(readFileSync(dir + file, "utf8"));
  const objects = [];
  for (const doc of docs) {
    for (const e of doc.errors) failures.push(`${file}: ${e.message}`);
    const o = doc.toJS();
    if (o === null) continue;
    check(o.apiVersion && o.kind && o.metadata?.name, `${file}: an object without apiVersion, kind or metadata.name`);
    objects.push(o);
  }
  const find = (kind, name) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const where = (what) => `${file}: ${what}`;

  const deps = objects.filter((o) => o.kind === "Deployment");
  check(deps.length === 1, where("not exactly one Deployment"));
  const dep = deps[0];
  if (!dep) continue;
  deployments[file] = dep;
  const pod = dep.spec.template.spec;
  const labels = dep.spec.template.metadata.labels ?? {};
  const c = pod.containers[0];
  check(pod.containers.length === 1, where("the pod has more than one container"));
  check(dep.spec.replicas >= 2, where("fewer than 2 replicas"));
  check(Object.entries(dep.spec.selector.matchLabels).every(([k, v]) => labels[k] === v), where("the selector does not match the pod's labels"));

  // Security.
  const psc = pod.securityContext ?? {};
  check(psc.runAsNonRoot === true, where("runAsNonRoot is not true"));
  check(psc.runAsUser === uid, where(`runAsUser is not the image's user ${uid}`));
  check(psc.fsGroup === uid, where("fsGroup is not the image's user's group: the exports volume would not be writable"));
  check(psc.seccompProfile?.type === "RuntimeDefault", where("seccomp is not RuntimeDefault"));
  const csc = c.securityContext ?? {};
  check(csc.readOnlyRootFilesystem === true, where("the root filesystem is not read-only"));
  check(csc.allowPrivilegeEscalation === false, where("privilege escalation is allowed"));
  check(csc.capabilities?.drop?.includes("ALL"), where("capabilities are not all dropped"));

  // Settings: every object referred to exists, every variable is one the binary reads.
  const env = {};
  for (const from of c.envFrom ?? []) {
    const [kind, ref] = from.configMapRef ? ["ConfigMap", from.configMapRef] : ["Secret", from.secretRef];
    const o = find(kind, ref.name);
    check(o, where(`envFrom names ${kind} ${ref.name}, which the file does not define`));
    Object.assign(env, o?.data, o?.stringData);
  }
  for (const name of Object.keys(env).filter((n) => n.startsWith("PBI_MCP_"))) {
    check(knownVars.has(name), where(`${name} is no variable of powerbi-mcp`));
  }
  check(env.PBI_MCP_HTTP_AUTH === "entra", where("PBI_MCP_HTTP_AUTH is not entra"));
  check(/^https:\/\//.test(env.PBI_MCP_PUBLIC_URL ?? ""), where("PBI_MCP_PUBLIC_URL is not an https URL"));

  // Probes, draining and termination.
  const ports = Object.fromEntries(c.ports.map((p) => [p.name, p.containerPort]));
  check(ports.mcp === 8080, where("the mcp port is not the image's 8080"));
  check(c.livenessProbe?.httpGet?.path === "/healthz" && c.livenessProbe.httpGet.port in ports, where("liveness is not /healthz on a declared port"));
  const ready = c.readinessProbe;
  check(ready?.httpGet?.path === "/readyz" && ready.httpGet.port in ports, where("readiness is not /readyz on a declared port"));
  const drain = seconds(env.PBI_MCP_DRAIN), grace = seconds(env.PBI_MCP_SHUTDOWN_GRACE);
  check(drain > 0 && grace > 0, where("PBI_MCP_DRAIN and PBI_MCP_SHUTDOWN_GRACE are not set in seconds"));
  check((ready?.periodSeconds ?? 10) * (ready?.failureThreshold ?? 3) < drain, where("readiness takes longer to fail than the drain lasts"));
  check(pod.terminationGracePeriodSeconds >= drain + grace + 5, where("terminationGracePeriodSeconds is less than drain + grace + 5"));

  // Metrics: the annotations, the container port and the address agree.
  const metricsPort = Number(/:(\d+)$/.exec(env.PBI_MCP_METRICS_ADDR ?? "")?.[1]);
  const ann = dep.spec.template.metadata.annotations ?? {};
  check(metricsPort && ports.metrics === metricsPort && ann["prometheus.io/port"] === String(metricsPort), where("the metrics address, port and annotations disagree"));

  // The export directory is a shared volume.
  const mount = c.volumeMounts.find((m) => m.mountPath === exportDir);
  const vol = pod.volumes.find((v) => v.name === mount?.name);
  const claim = vol?.persistentVolumeClaim && find("PersistentVolumeClaim", vol.persistentVolumeClaim.claimName);
  check(claim?.spec.accessModes.includes("ReadWriteMany"), where(`${exportDir} is not a ReadWriteMany volume claimed in the file`));
  for (const m of c.volumeMounts) check(pod.volumes.some((v) => v.name === m.name), where(`mount ${m.name} has no volume`));

  // The Service reaches the pods.
  const svc = objects.find((o) => o.kind === "Service");
  check(svc && Object.entries(svc.spec.selector).every(([k, v]) => labels[k] === v), where("no Service selects the pods"));
  for (const p of svc?.spec.ports ?? []) check(p.targetPort in ports, where(`Service port ${p.name} targets no container port`));

  // Workload identity: the service account the webhook acts on, and no secret.
  const sa = pod.serviceAccountName && find("ServiceAccount", pod.serviceAccountName);
  if (sa || labels["azure.workload.identity/use"]) {
    check(sa?.metadata.annotations?.["azure.workload.identity/client-id"], where("the service account has no azure.workload.identity/client-id"));
    check(labels["azure.workload.identity/use"] === "true", where("the pod is not labelled azure.workload.identity/use: \"true\""));
    check(!objects.some((o) => o.kind === "Secret") && !c.envFrom.some((f) => f.secretRef), where("a secret besides workload identity"));
    check(env.PBI_MCP_AUTH === "workload-identity", where("PBI_MCP_AUTH is not workload-identity"));
  } else {
    check(objects.some((o) => o.kind === "Secret" && "AZURE_CLIENT_SECRET" in (o.stringData ?? o.data ?? {})), where("no Secret holds AZURE_CLIENT_SECRET"));
  }
  // What the workload identity webhook would add to the environment.
  if (sa) {
    const a = sa.metadata.annotations ?? {};
    Object.assign(env, { AZURE_CLIENT_ID: a["azure.workload.identity/client-id"], AZURE_TENANT_ID: a["azure.workload.identity/tenant-id"] });
  }
  starts.push([file, env, Boolean(sa)]);
  console.log(`${file}: ${objects.map((o) => o.kind).join(", ")}`);
}

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
});
for (const [file, settings, workloadIdentity] of starts) {
  const dir = mkdtempSync(`${tmpdir()}/manifests-`);
  const env = { PATH: process.env.PATH, HOME: dir, ...settings, PBI_MCP_EXPORT_DIR: dir, PBI_MCP_METRICS_ADDR: "127.0.0.1:0" };
  if (workloadIdentity) {
    env.AZURE_FEDERATED_TOKEN_FILE = `${dir}/token`;
    writeFileSync(env.AZURE_FEDERATED_TOKEN_FILE, "not-a-real-token");
  }
  const port = await freePort();
  const server = spawn(process.argv[2], ["--transport", "http", "--addr", `127.0.0.1:${port}`], { env, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  server.stderr.on("data", (d) => { log += d; });
  const exited = new Promise((resolve) => server.on("exit", resolve));
  const url = new URL(settings.PBI_MCP_PUBLIC_URL);
  let metadata;
  for (let i = 0; i < 100 && server.exitCode === null && !metadata; i++) {
    metadata = await fetch(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource${url.pathname}`)
      .then((r) => (r.ok ? r.json() : undefined), () => undefined);
    if (!metadata) await new Promise((r) => setTimeout(r, 100));
  }
  server.kill("SIGKILL");
  await exited;
  rmSync(dir, { recursive: true, force: true });
  check(metadata?.resource === settings.PBI_MCP_PUBLIC_URL,
    `${file}: powerbi-mcp with these settings did not serve the OAuth metadata for ${settings.PBI_MCP_PUBLIC_URL}:\n${log}`);
  if (metadata) console.log(`${file}: the server starts with its settings and names the resource ${metadata.resource}`);
}

// The variant differs from the base only in the credential.
const [a, b] = Object.values(deployments);
if (a && b) {
  const strip = (d) => ({ ...d.spec.template.spec.containers[0], envFrom: undefined });
  check(isDeepStrictEqual(strip(a), strip(b)), "the two Deployments' containers differ beyond envFrom: keep them in step");
}

if (failures.length) {
  for (const f of failures) console.error(f);
  process.exit(1);
}
console.log("the manifests parse, refer only to what they define, and match the image and the binary's variables");
