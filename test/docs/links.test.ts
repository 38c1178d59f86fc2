// The documentation's relative links: every link in README.md and docs/*.md that points inside the repository
// must reach a file that exists and, with a #fragment into a Markdown file, a heading of it (GitHub's slugs).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

/** The text outside fenced code blocks and inline code, where Markdown links and headings live. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, (code) => code.replace(/[[\]()#]/g, " "));
}

/** GitHub's heading anchor (github-slugger): lowercased, punctuation dropped, each space a hyphen, repeats numbered. */
function headingSlugs(markdown: string): Set<string> {
  const noFences = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
  const seen = new Map<string, number>();
  const slugs = new Set<string>();
  for (const [, raw] of noFences.matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const text = raw!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // a link's or image's text only
      .replace(/<[^>]+>/g, "") // inline HTML
      .replace(/`/g, "");
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    slugs.add(n === 0 ? base : `${base}-${n}`);
  }
  return slugs;
}

/** Every link target of a Markdown text that stays inside the repository: [text](target), ![alt](target), href/src. */
function relativeLinks(markdown: string): string[] {
  const text = prose(markdown);
  const targets = [
    ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!),
    ...[...text.matchAll(/\b(?:href|src)="([^"]+)"/g)].map((m) => m[1]!),
  ];
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith("//"));
}

/** What is wrong with each relative link of `file` (repository-relative), read from disk. */
function deadLinks(
  file: string,
  read = (path: string) => readFileSync(join(ROOT, path), "utf8"),
  exists = (path: string) => existsSync(join(ROOT, path)),
): string[] {
  const problems: string[] = [];
  for (const target of relativeLinks(read(file))) {
    const [pathPart, fragment] = target.split("#", 2) as [string, string | undefined];
    const path = pathPart === "" ? file : relative(ROOT, resolve(ROOT, dirname(file), decodeURI(pathPart)));
    if (path.startsWith("..") || !exists(path)) {
      problems.push(`${file}: ${target} (no file ${path})`);
      continue;
    }
    if (fragment === undefined || fragment === "") continue;
    if (!path.endsWith(".md")) {
      problems.push(`${file}: ${target} (a #fragment into a file that is not Markdown)`);
    } else if (!headingSlugs(read(path)).has(decodeURIComponent(fragment))) {
      problems.push(`${file}: ${target} (no heading #${fragment} in ${path})`);
    }
  }
  return problems;
}

const pages = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

describe("documentation links", () => {
  it("every relative link and #anchor in README.md and docs/*.md reaches a file and a heading", () => {
    expect(pages.length).toBeGreaterThan(5);
    expect(pages.flatMap((page) => deadLinks(page))).toEqual([]);
  });

  it("the README links every page under docs/", () => {
    const readme = relativeLinks(readFileSync(join(ROOT, "README.md"), "utf8")).map((t) => t.split("#")[0]);
    expect(pages.filter((p) => p !== "README.md" && !readme.includes(p))).toEqual([]);
  });

  it("slugs headings as GitHub does", () => {
    const slugs = headingSlugs(
      [
        "# Edge Webhooks",
        "## Settings pages: Integrations > Webhooks",
        "### `npm run receiver`: watch deliveries arrive",
        "## Delivery log, retry, recover, test events",
        "## The failure quota (self-protection)",
        "## Run it",
        "```sh",
        "# not a heading",
        "```",
        "## Run it",
        "## FAILURE_QUOTA_LIMIT and [a link](x.md) ##",
      ].join("\n"),
    );
    expect([...slugs]).toEqual([
      "edge-webhooks",
      "settings-pages-integrations--webhooks",
      "npm-run-receiver-watch-deliveries-arrive",
      "delivery-log-retry-recover-test-events",
      "the-failure-quota-self-protection",
      "run-it",
      "run-it-1",
      "failure_quota_limit-and-a-link",
    ]);
  });

  it("finds a missing file and a missing anchor, and ignores code, outside URLs and good links", () => {
    const files: Record<string, string> = {
      "docs/a.md": [
        "# Title",
        "[ok](../README.md) [ok](#title) [ok](b.md#two-words) ![pic](screenshots/none.png)",
        "[gone](missing.md) [no anchor](b.md#nope) [self](#nothing) [web](https://example.com/x.md#y)",
        "`[in code](nowhere.md)`",
        "```md",
        "[in a block](nowhere.md)",
        "```",
      ].join("\n"),
      "docs/b.md": "## Two words\n",
      "README.md": "# Readme\n",
    };
    const read = (path: string) => files[path] ?? readFileSync(join(ROOT, path), "utf8");
    const found = deadLinks("docs/a.md", read, (path) => path in files || existsSync(join(ROOT, path)));
    expect(found.map((p) => p.split(" (")[0])).toEqual([
      "docs/a.md: screenshots/none.png",
      "docs/a.md: missing.md",
      "docs/a.md: b.md#nope",
      "docs/a.md: #nothing",
    ]);
  });
});

describe("the README's five-minute tour", () => {
  it("is made of lines of docs/walkthrough.md, which test/e2e/walkthrough.test.ts runs as pasted", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const tour = readme.slice(
      readme.indexOf("## A five-minute tour"),
      readme.indexOf("\n## ", readme.indexOf("## A five-minute tour") + 1),
    );
    const commands = [...tour.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap(([, code]) => code!.split("\n")).filter((l) => l.trim() !== "");
    expect(commands.length).toBeGreaterThan(8);
    const walkthrough = new Set(readFileSync(join(ROOT, "docs", "walkthrough.md"), "utf8").split("\n"));
    expect(commands.filter((line) => !walkthrough.has(line))).toEqual([]);
  });
});
