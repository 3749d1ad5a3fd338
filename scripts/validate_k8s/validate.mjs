// Validates the generated deploy/k8s objects (sttbench report --k8s-out DIR):
// - every Kubernetes object against its schema in kubernetes-models (the
//   OpenAPI schemas of Kubernetes 1.28), strict: no field the schema lacks;
// - the KEDA ScaledObject against the OpenAPI schema of KEDA's own CRD
//   (@kubernetes-models/keda is generated from keda-2.10.1.yaml, KEDA's
//   release manifest with its CRDs);
// - grafana-dashboard.json by structure (Grafana publishes no JSON schema of
//   the dashboard model), and every sttd metric its queries name against the
//   metrics sttd registers (lib/svc/http.c).
// Usage: node validate.mjs DIR   (exit 0: all valid; 1: a finding, printed)
import { readFileSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Service } from "kubernetes-models/v1/Service";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";

const models = {
  "apps/v1 Deployment": Deployment,
  "v1 Service": Service,
  "autoscaling/v2 HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "policy/v1 PodDisruptionBudget": PodDisruptionBudget,
  "keda.sh/v1alpha1 ScaledObject": ScaledObject,
};

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node validate.mjs DIR");
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
let failures = 0;
const fail = (file, msg) => {
  console.error(`${file}: ${msg}`);
  failures++;
};

// Fields the schema does not know are errors, as with kubectl's strict field
// validation: a mistyped key is otherwise dropped without a word. The models'
// validators check types, required fields and enums but let unknown keys
// pass, so the keys are checked against the models' own type declarations
// (the .d.ts files generated from the same OpenAPI schemas).
const modules = join(here, "node_modules");
const declCache = new Map();

function declFile(from, spec) {
  const base = spec.startsWith(".") ? join(dirname(from), spec) : join(modules, spec);
  return base.endsWith(".d.ts") ? base : `${base}.d.ts`;
}

// The declarations of one .d.ts: its imports and its interfaces / type aliases.
function decls(file) {
  if (declCache.has(file)) return declCache.get(file);
  let text = "";
  try {
    text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  } catch {
    declCache.set(file, null);
    return null;
  }
  const imports = new Map();
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g))
    for (const n of m[1].split(",").map((x) => x.trim().split(/\s+as\s+/).pop()))
      if (n) imports.set(n, m[2]);
  const types = new Map();
  for (const m of text.matchAll(/export\s+(?:interface\s+(\w+)[^{]*|type\s+(\w+)\s*=\s*)/g)) {
    const start = m.index + m[0].length;
    types.set(m[1] ?? m[2], { file, text, start });
  }
  // export { IPodSpec as IIoK8sApiCoreV1PodSpec, ... }: the names other files import
  for (const m of text.matchAll(/export\s*\{([^}]*)\}/g))
    for (const part of m[1].split(",")) {
      const [from, to] = part.trim().split(/\s+as\s+/);
      if (to && types.has(from)) types.set(to, types.get(from));
    }
  const d = { imports, types };
  declCache.set(file, d);
  return d;
}

// A tiny parser of the TypeScript type expressions these files use.
function parseType(text, i) {
  const ws = () => {
    while (/\s/.test(text[i])) i++;
  };
  const one = () => {
    ws();
    if (text[i] === "{") {
      i++;
      const members = new Map();
      let index = null;
      for (;;) {
        ws();
        if (text[i] === "}") {
          i++;
          break;
        }
        let key;
        if (text[i] === '"') {
          const e = text.indexOf('"', i + 1);
          key = text.slice(i + 1, e);
          i = e + 1;
        } else if (text[i] === "[") {
          i = text.indexOf("]", i) + 1;
          key = null;
        } else {
          const m = /^\w+/.exec(text.slice(i));
          key = m[0];
          i += key.length;
        }
        ws();
        if (text[i] === "?") i++;
        ws();
        i++; // ':'
        const [t, j] = parseType(text, i);
        i = j;
        if (key === null) index = t;
        else members.set(key, t);
        ws();
        if (text[i] === ";" || text[i] === ",") i++;
      }
      return { kind: "object", members, index };
    }
    if (text.startsWith("Array<", i)) {
      const [t, j] = parseType(text, i + 6);
      i = j + 1; // '>'
      return { kind: "array", of: t };
    }
    if (text[i] === '"' || text[i] === "'") {
      const e = text.indexOf(text[i], i + 1);
      i = e + 1;
      return { kind: "other" };
    }
    if (text[i] === "(") {
      const [t, j] = parseType(text, i + 1);
      i = j + 1;
      return t;
    }
    const m = /^[\w.]+/.exec(text.slice(i));
    i += m ? m[0].length : 1;
    return m && /^[A-Z]/.test(m[0]) ? { kind: "ref", name: m[0] } : { kind: "other" };
  };
  let t = one();
  for (;;) {
    ws();
    if (text.startsWith("[]", i)) {
      i += 2;
      t = { kind: "array", of: t };
      continue;
    }
    if (text[i] !== "|") break;
    i++;
    one();
    t = { kind: "other" }; /* a union: not checked */
  }
  return [t, i];
}

function resolve(name, file) {
  const d = decls(file);
  if (!d) return null;
  if (d.types.has(name)) {
    const { text, start } = d.types.get(name);
    return { type: parseType(text, start)[0], file };
  }
  if (d.imports.has(name)) {
    const f = declFile(file, d.imports.get(name));
    return resolve(name, f);
  }
  return null;
}

function strict(type, file, value, path, where) {
  if (!type || value === null || typeof value !== "object") return;
  if (type.kind === "ref") {
    const r = resolve(type.name, file);
    if (r) strict(r.type, r.file, value, path, where);
    return;
  }
  if (type.kind === "array") {
    if (Array.isArray(value)) value.forEach((v, i) => strict(type.of, file, v, `${path}[${i}]`, where));
    return;
  }
  if (type.kind !== "object" || Array.isArray(value)) return;
  for (const [k, v] of Object.entries(value)) {
    const t = type.members.get(k) ?? type.index;
    if (!t) fail(where, `${path}.${k}: not a field of this object`);
    else strict(t, file, v, `${path}.${k}`, where);
  }
}

const declOf = {
  "apps/v1 Deployment": ["kubernetes-models/apps/v1/Deployment", "IDeployment"],
  "v1 Service": ["kubernetes-models/v1/Service", "IService"],
  "autoscaling/v2 HorizontalPodAutoscaler": [
    "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler",
    "IHorizontalPodAutoscaler",
  ],
  "policy/v1 PodDisruptionBudget": ["kubernetes-models/policy/v1/PodDisruptionBudget", "IPodDisruptionBudget"],
  "keda.sh/v1alpha1 ScaledObject": ["@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject", "IScaledObject"],
};

function validateYaml(file, text) {
  const docs = parseAllDocuments(text);
  if (!docs.length) fail(file, "no object");
  for (const doc of docs) {
    if (doc.errors.length) {
      fail(file, `YAML: ${doc.errors[0].message}`);
      continue;
    }
    const obj = doc.toJS();
    const before = failures;
    const key = `${obj?.apiVersion} ${obj?.kind}`;
    const Model = models[key];
    if (!Model) {
      fail(file, `unexpected object ${key}`);
      continue;
    }
    try {
      new Model(obj).validate();
    } catch (e) {
      fail(file, `${key}: ${e.message}`);
      continue;
    }
    const [mod, iface] = declOf[key];
    const root = resolve(iface, join(modules, `${mod}.d.ts`));
    if (!root) fail(file, `${key}: no type declaration to check its fields with`);
    else strict(root.type, root.file, obj, "", file);
    if (obj.metadata?.labels?.app !== "sttd") fail(file, `${key}: no label app: sttd`);
    if (failures === before) console.log(`${file}: ${key} valid`);
  }
}

function sttdMetrics() {
  try {
    const src = readFileSync(join(here, "../../lib/svc/http.c"), "utf8");
    return new Set([...src.matchAll(/"(sttd_[a-z_]+)"/g)].map((m) => m[1]));
  } catch {
    return null;
  }
}

function validateDashboard(file, text) {
  let d;
  try {
    d = JSON.parse(text);
  } catch (e) {
    return fail(file, `JSON: ${e.message}`);
  }
  for (const k of ["title", "uid"]) if (typeof d[k] !== "string" || !d[k]) fail(file, `no ${k}`);
  if (!Number.isInteger(d.schemaVersion)) fail(file, "no schemaVersion");
  if (!Array.isArray(d.panels) || !d.panels.length) return fail(file, "no panels");
  const known = sttdMetrics();
  const ids = new Set();
  for (const p of d.panels) {
    const where = `panel ${p.id} "${p.title}"`;
    if (!Number.isInteger(p.id) || ids.has(p.id)) fail(file, `${where}: id missing or repeated`);
    ids.add(p.id);
    if (typeof p.type !== "string" || typeof p.title !== "string") fail(file, `${where}: type, title`);
    const g = p.gridPos ?? {};
    if (!["h", "w", "x", "y"].every((k) => Number.isInteger(g[k])) || g.w < 1 || g.x + g.w > 24)
      fail(file, `${where}: gridPos`);
    if (!Array.isArray(p.targets) || !p.targets.length) fail(file, `${where}: no targets`);
    for (const t of p.targets ?? []) {
      if (typeof t.expr !== "string" || !t.expr || typeof t.refId !== "string")
        fail(file, `${where}: a target without expr or refId`);
      let depth = 0;
      for (const c of t.expr ?? "") {
        depth += c === "(" ? 1 : c === ")" ? -1 : 0;
        if (depth < 0) break;
      }
      if (depth !== 0) fail(file, `${where}: unbalanced parentheses in ${t.expr}`);
      for (const m of (t.expr ?? "").matchAll(/\b(sttd_[a-z_]+?)(_bucket|_sum|_count)?\b/g)) {
        const name = m[1] + (known?.has(m[1]) ? "" : m[2] ?? "");
        if (known && !known.has(m[1]) && !known.has(name))
          fail(file, `${where}: sttd does not export ${m[0]}`);
      }
    }
    for (const s of p.fieldConfig?.defaults?.thresholds?.steps ?? [])
      if (s.value !== null && !Number.isFinite(s.value)) fail(file, `${where}: threshold`);
  }
  if (!known) console.log(`${file}: lib/svc/http.c not found: metric names not checked`);
  console.log(`${file}: dashboard with ${d.panels.length} panels valid`);
}

for (const name of readdirSync(dir).sort()) {
  const file = join(dir, name);
  if (name.endsWith(".yaml") || name.endsWith(".yml")) validateYaml(file, readFileSync(file, "utf8"));
  else if (name.endsWith(".json")) validateDashboard(file, readFileSync(file, "utf8"));
}
process.exit(failures ? 1 : 0);
