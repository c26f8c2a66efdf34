// Reads each YAML document of a JSON list on stdin as the editor does, and prints what its key `v` holds.
// The options are yaml-language-server's own (src/languageservice/parser/yamlParser07.ts: strict false,
// version 1.2, source tokens kept); intAsBigInt only tells an int from a float, which JavaScript numbers cannot.
import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";

const typed = (value) => {
  if (value === null) return ["null", ""];
  if (typeof value === "bigint") return ["int", value.toString()];
  if (typeof value === "number") return ["float", String(value)];
  if (typeof value === "boolean") return ["bool", String(value)];
  if (typeof value === "string") return ["str", value];
  return ["other", JSON.stringify(value)];
};

const documents = JSON.parse(readFileSync(0, "utf8"));
const read = documents.map((text) => {
  const document = parseDocument(text, { strict: false, version: "1.2", keepSourceTokens: true, intAsBigInt: true });
  if (document.errors.length > 0) return ["error", document.errors[0].message];
  return typed(document.toJS().v);
});
process.stdout.write(JSON.stringify(read));
