/** @jsxImportSource hono/jsx */
// The /docs API reference: rendered on the server from the OpenAPI document, so it works offline.
import type { FC } from "hono/jsx";

type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  description?: string;
  example?: unknown;
  format?: string;
  maxLength?: number;
  minItems?: number;
  nullable?: boolean;
  anyOf?: Schema[];
  oneOf?: Schema[];
};

type Operation = {
  tags?: string[];
  summary?: string;
  description?: string;
  security?: Record<string, unknown>[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>;
};

export type OpenApiDocument = {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
  /** What the service sends out: one entry per event type (OpenAPI 3.1). */
  webhooks?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
};

const refName = (ref: string) => ref.split("/").pop()!;

function resolve(doc: OpenApiDocument, schema: Schema | undefined): Schema | undefined {
  if (schema?.$ref) return doc.components?.schemas?.[refName(schema.$ref)];
  return schema;
}

function typeLabel(doc: OpenApiDocument, schema: Schema | undefined): string {
  if (!schema) return "";
  if (schema.$ref) return refName(schema.$ref);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return variants.map((s) => typeLabel(doc, s)).join(" | ");
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  const type = Array.isArray(schema.type) ? schema.type.join(" | ") : (schema.type ?? "any");
  if (type === "array") return `${typeLabel(doc, schema.items)}[]`;
  return schema.format ? `${type} (${schema.format})` : type;
}

const Fields: FC<{ doc: OpenApiDocument; schema: Schema | undefined }> = ({ doc, schema }) => {
  const resolved = resolve(doc, schema);
  if (!resolved?.properties) return <code>{typeLabel(doc, schema)}</code>;
  const required = new Set(resolved.required ?? []);
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">field</th>
          <th scope="col">type</th>
          <th scope="col">notes</th>
        </tr>
      </thead>
      <tbody>
        {Object.entries(resolved.properties).map(([name, prop]) => (
          <tr>
            <td>
              <code>{name}</code>
              {required.has(name) ? "" : "?"}
            </td>
            <td>
              <code>{typeLabel(doc, prop)}</code>
            </td>
            <td>{resolve(doc, prop)?.description ?? ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
};

/** One operation: a route of the API, or (`webhook`) a delivery the service sends to an endpoint. */
const OperationSection: FC<{ doc: OpenApiDocument; label: string; method: string; path: string; op: Operation; webhook?: boolean }> = ({
  doc,
  label,
  method,
  path,
  op,
  webhook,
}) => (
  <section class="op" aria-label={label}>
    <h3>
      <span class={`method ${method}`}>{method}</span> <code>{path}</code>
    </h3>
    <p>
      <strong>{op.summary}</strong>
      {op.description ? ` — ${op.description}` : ""}
    </p>
    {webhook ? null : (
      <p>
        Auth:{" "}
        {op.security?.length
          ? Object.keys(op.security[0]!).join(", ") === "adminToken"
            ? "Bearer ADMIN_TOKEN"
            : "Bearer API key"
          : "none"}
      </p>
    )}
    {op.parameters?.length ? (
      <>
        <h4>Parameters</h4>
        <ul>
          {op.parameters.map((p) => (
            <li>
              <code>{p.name}</code> ({p.in}
              {p.required ? ", required" : ""}) <code>{typeLabel(doc, p.schema)}</code> {p.description ?? ""}
            </li>
          ))}
        </ul>
      </>
    ) : null}
    {op.requestBody?.content?.["application/json"] ? (
      <>
        <h4>Body</h4>
        <Fields doc={doc} schema={op.requestBody.content["application/json"].schema} />
      </>
    ) : null}
    <h4>Responses</h4>
    <ul>
      {Object.entries(op.responses ?? {}).map(([status, res]) => (
        <li>
          <code>{status}</code> {res.description}{" "}
          {res.content?.["application/json"] ? <code>{typeLabel(doc, res.content["application/json"].schema)}</code> : null}
        </li>
      ))}
    </ul>
  </section>
);

const METHOD_ORDER = ["get", "post", "put", "patch", "delete"];

export const ApiReference: FC<{ doc: OpenApiDocument }> = ({ doc }) => {
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method]) => METHOD_ORDER.includes(method))
      .map(([method, op]) => ({ path, method, op, tag: op.tags?.[0] ?? "Other" })),
  );
  const tags = [...new Set(operations.map((o) => o.tag))];
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{doc.info.title} — API reference</title>
        <style>{`
          body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
          main{max-width:60rem;margin:0 auto;padding:1.5rem}
          nav a{margin-right:1rem}
          section.op{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:1rem;margin:1rem 0}
          .method{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}
          .get{color:#0a7d32}.post{color:#1456c2}.patch{color:#8a5a00}.delete{color:#b3261e}
          code{font-family:ui-monospace,monospace;font-size:.9em}
          table{border-collapse:collapse;width:100%;margin:.5rem 0}
          th,td{text-align:left;border-bottom:1px solid #eceff3;padding:.25rem .5rem;vertical-align:top}
          a{color:#1456c2}
        `}</style>
      </head>
      <body>
        <main>
          <h1>
            {doc.info.title} <small>v{doc.info.version}</small>
          </h1>
          <p>{doc.info.description}</p>
          <p>
            Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).
          </p>
          <nav aria-label="Sections">
            {tags.map((tag) => (
              <a href={`#${tag.toLowerCase()}`}>{tag}</a>
            ))}
            {doc.webhooks ? <a href="#webhooks">Webhooks</a> : null}
          </nav>
          {tags.map((tag) => (
            <>
              <h2 id={tag.toLowerCase()}>{tag}</h2>
              {operations
                .filter((o) => o.tag === tag)
                .map(({ path, method, op }) => (
                  <OperationSection doc={doc} label={`${method.toUpperCase()} ${path}`} method={method} path={path} op={op} />
                ))}
            </>
          ))}
          {doc.webhooks ? (
            <>
              <h2 id="webhooks">Webhooks: what your endpoint receives</h2>
              {Object.entries(doc.webhooks).flatMap(([type, methods]) =>
                Object.entries(methods).map(([method, op]) => (
                  <OperationSection doc={doc} label={`WEBHOOK ${type}`} method={method} path={type} op={op} webhook />
                )),
              )}
            </>
          ) : null}
          <h2 id="schemas">Schemas</h2>
          {Object.entries(doc.components?.schemas ?? {}).map(([name, schema]) => (
            <section class="op" id={`schema-${name}`}>
              <h3>{name}</h3>
              <Fields doc={doc} schema={schema} />
            </section>
          ))}
        </main>
      </body>
    </html>
  );
};
