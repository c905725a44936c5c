// Renders TeX to SVG at build time (called by fast.py): reads the formulas of each page
// on stdin and writes their SVGs, each page's glyph cache and the stylesheet on stdout,
// so the pages need no MathJax script at all. Each formula carries its MathML for
// screen readers (assistive MathML).
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
// {"pages": [[[tex, display], ...], ...]}: one list of formulas per page
const pages = JSON.parse(Buffer.concat(chunks).toString('utf8')).pages;

const adaptor = liteAdaptor();
AssistiveMmlHandler(RegisterHTMLHandler(adaptor));
const tex = new TeX({packages: AllPackages.filter((p) => p !== 'bussproofs')});
const svg = new SVG({fontCache: 'global'});
const doc = mathjax.document('', {InputJax: tex, OutputJax: svg});

// each page gets its own glyph cache: the formulas refer to its paths with <use>, so a
// glyph's outline is written once per page instead of once per formula
const out = [];
const errors = [];
for (const items of pages) {
  svg.fontCache.clearCache();
  const svgs = [];
  for (const [src, display] of items) {
    const node = doc.convert(src, {display, em: 16, ex: 8, containerWidth: 80 * 16});
    const html = adaptor.outerHTML(node);
    if (html.includes('data-mjx-error') || html.includes('merror')) errors.push(src);
    svgs.push(html);
  }
  const defs = adaptor.outerHTML(svg.fontCache.getCache());
  const cache = '<svg id="MJX-SVG-global-cache" xmlns="http://www.w3.org/2000/svg" ' +
    'style="display: none" aria-hidden="true">' + defs + '</svg>';
  out.push({svgs, cache});
}
const css = adaptor.textContent(svg.styleSheet(doc));
process.stdout.write(JSON.stringify({css, pages: out, errors}));
