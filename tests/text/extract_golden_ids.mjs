// Reads the encoder test cases out of a JavaScript tokenizer's source file and writes them as
// JSON: [{"text": "...", "ids": [...]}, ...]. Used by fetch_tokenizer_files.cmake for the Llama
// tokenizers, whose authors checked these expected ids against Meta's reference tokenizers.
//
//   node extract_golden_ids.mjs <source.js> <out.json>
//
// A test case is a call testCase(<text>, [<ids>]) or testEncodeAndDecode(<text>, [<ids>]); its
// arguments are found by matching brackets outside string literals and evaluated as JavaScript
// literals.
import { readFileSync, writeFileSync } from "node:fs";

const [source, out] = process.argv.slice(2);
const code = readFileSync(source, "utf8");

// The text between the '(' at `open` and its matching ')'.
function argumentsAt(open) {
  let depth = 0;
  for (let i = open; i < code.length; ++i) {
    const c = code[i];
    if (c === '"' || c === "'" || c === "`") {
      for (++i; code[i] !== c; ++i) if (code[i] === "\\") ++i;
    } else if (c === "(" || c === "[") {
      ++depth;
    } else if (c === ")" || c === "]") {
      if (--depth === 0) return code.slice(open + 1, i);
    }
  }
  throw new Error(`unbalanced call at offset ${open}`);
}

const cases = [];
for (const match of code.matchAll(/\b(testCase|testEncodeAndDecode)\(/g)) {
  const args = argumentsAt(match.index + match[0].length - 1);
  if (!/^\s*["'`]/.test(args)) continue;  // the function's own definition
  const [text, ids] = new Function(`return [${args}]`)();
  if (typeof text !== "string" || !Array.isArray(ids)) continue;
  cases.push({ text, ids });
}
if (cases.length === 0) throw new Error(`no test cases found in ${source}`);
writeFileSync(out, JSON.stringify(cases, null, 1) + "\n");
console.log(`${cases.length} test cases from ${source}`);
