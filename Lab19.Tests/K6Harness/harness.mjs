// A k6 stand-in for the tests: runs a k6 script under Node with recording fakes of the k6 modules it imports, calls each
// scenario's exec function twice, and prints the script's options and the requests it made as JSON.
// Usage: node harness.mjs <script.js> '<__ENV as JSON>'
import { register } from 'node:module';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const requests = [];
const record = (method, url, body, params) => {
  requests.push({ method, url, body, headers: params?.headers ?? {}, tags: params?.tags ?? {} });
  return { status: method === 'POST' ? 201 : 200, headers: { Location: url }, json: () => [] };
};
globalThis.__k6 = { record, randomBytes: (n) => randomBytes(n).buffer };
globalThis.__ENV = JSON.parse(process.argv[3] ?? '{}');

const modules = {
  'k6/http': 'const k6 = globalThis.__k6; export default { get: (url, params) => k6.record("GET", url, null, params), post: (url, body, params) => k6.record("POST", url, body, params) };',
  k6: 'export const check = (value, checks) => Object.values(checks).every((c) => c(value));',
  'k6/crypto': 'export default { randomBytes: (n) => globalThis.__k6.randomBytes(n) };',
};
const hooks = `const modules = ${JSON.stringify(modules)};
export async function resolve(specifier, context, next) {
  return Object.hasOwn(modules, specifier)
    ? { url: 'data:text/javascript,' + encodeURIComponent(modules[specifier]), shortCircuit: true }
    : next(specifier, context);
}`;
register('data:text/javascript,' + encodeURIComponent(hooks));

const script = await import(pathToFileURL(resolve(process.argv[2])).href);
for (const scenario of Object.values(script.options.scenarios)) {
  if (typeof script[scenario.exec] !== 'function') throw new Error(`scenario exec '${scenario.exec}' is not an exported function`);
  script[scenario.exec]();
  script[scenario.exec]();
}
console.log(JSON.stringify({ options: script.options, requests }));
