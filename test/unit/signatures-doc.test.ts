// docs/signatures.md shows the two verification snippets exactly as the files the tests run (signatures.test.ts
// in workerd, the test receiver in Node), so what a reader copies is what was tested.
import { describe, expect, it } from "vitest";
import doc from "../../docs/signatures.md?raw";
import nodeSnippet from "../../docs/snippets/verify-v1a-node.mjs?raw";
import webCryptoSnippet from "../../docs/snippets/verify-v1a-webcrypto.mjs?raw";

describe("docs/signatures.md", () => {
  it.each([
    ["Node", nodeSnippet],
    ["WebCrypto", webCryptoSnippet],
  ])("shows the %s snippet verbatim, as a js block", (_name, snippet) => {
    expect(snippet.length).toBeGreaterThan(500);
    expect(doc).toContain("```js\n" + snippet + "```");
  });
});
