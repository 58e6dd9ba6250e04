// Builds the console into dist/: one minified ES module, one stylesheet, the page (naming the
// assets by content hash so browsers may keep them) and the icon. The output is committed and
// compiled into the baton binary; CI rebuilds it and fails if it differs.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";

const here = new URL(".", import.meta.url).pathname;
const dist = `${here}dist`;
mkdirSync(dist, { recursive: true });

await build({
  entryPoints: [`${here}src/main.js`],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020"],
  legalComments: "none",
  outfile: `${dist}/app.js`,
  logLevel: "warning",
});
await build({
  entryPoints: [`${here}src/style.css`],
  bundle: true,
  minify: true,
  outfile: `${dist}/app.css`,
  logLevel: "warning",
});
copyFileSync(`${here}src/favicon.svg`, `${dist}/favicon.svg`);

const hash = (file) => createHash("sha256").update(readFileSync(`${dist}/${file}`)).digest("hex").slice(0, 12);
const page = readFileSync(`${here}src/index.html`, "utf8")
  .replace("__JS_HASH__", hash("app.js"))
  .replace("__CSS_HASH__", hash("app.css"));
writeFileSync(`${dist}/index.html`, page);
