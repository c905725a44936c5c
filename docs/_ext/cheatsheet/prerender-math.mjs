// Renders TeX to SVG at build time (called by fast.py): reads a JSON list of
// [tex, display] pairs on stdin and writes {"css": ..., "svg": [...]} on stdout, so the
// pages need no MathJax script at all. Each SVG keeps its glyphs (fontCache "local")
// and carries the formula as MathML for screen readers (assistive MathML).
// argv[2]: the node_modules folder that holds mathjax-full (npm ci, package.json).
import {pathToFileURL} from 'node:url';
import {join} from 'node:path';

const nm = process.argv[2];
const load = (p) => import(pathToFileURL(join(nm, 'mathjax-full', 'js', p)).href);
const {mathjax} = await load('mathjax.js');
const {TeX} = await load('input/tex.js');
const {SVG} = await load('output/svg.js');
const {liteAdaptor} = await load('adaptors/liteAdaptor.js');
const {RegisterHTMLHandler} = await load('handlers/html.js');
const {AssistiveMmlHandler} = await load('a11y/assistive-mml.js');
const {AllPackages} = await load('input/tex/AllPackages.js');

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const items = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const adaptor = liteAdaptor();
AssistiveMmlHandler(RegisterHTMLHandler(adaptor));
const tex = new TeX({packages: AllPackages.filter((p) => p !== 'bussproofs')});
const svg = new SVG({fontCache: 'local'});
const doc = mathjax.document('', {InputJax: tex, OutputJax: svg});

const out = [];
const errors = [];
for (const [src, display] of items) {
  const node = doc.convert(src, {display, em: 16, ex: 8, containerWidth: 80 * 16});
  const html = adaptor.outerHTML(node);
  if (html.includes('data-mjx-error') || html.includes('merror')) errors.push(src);
  out.push(html);
}
const css = adaptor.textContent(svg.styleSheet(doc));
process.stdout.write(JSON.stringify({css, svg: out, errors}));
