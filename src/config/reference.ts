// Renders the option table (options.ts) as Markdown: the README's configuration reference is
// generated from the same table the parser uses, so the two cannot disagree.
import { OPTIONS, type OptionSpec, type Scope } from "./options";

function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function code(text: string): string {
  return `\`${text}\``;
}

const SCOPE_LABEL: Record<Scope, string> = {
  global: "global",
  vhost: "vhost",
  both: "global, vhost",
};

/** One Markdown table row per option, titus's options first, then tlsbox's, each in table order. */
export function renderReference(): string {
  const rows: string[] = [
    "| Option | Where | Value | Default | Description |",
    "|---|---|---|---|---|",
  ];
  const entries = Object.entries(OPTIONS) as [string, OptionSpec<unknown>][];
  for (const origin of ["titus", "tlsbox"] as const) {
    for (const [name, spec] of entries.filter(([, s]) => s.origin === origin)) {
      const where = spec.cliFlag === true ? "command line" : SCOPE_LABEL[spec.scope];
      let doc = spec.doc;
      if (spec.refused !== undefined) {
        doc = spec.refused.harmless !== undefined
          ? `**Refused unless ${code(`${name} ${spec.refused.harmless}`)}**: ${spec.refused.reason}. ${spec.doc}`
          : `**Refused**: ${spec.refused.reason}. ${spec.doc}`;
      }
      if (origin === "tlsbox") doc = `*(tlsbox)* ${doc}`;
      rows.push(`| ${code(name)} | ${where} | ${cell(spec.value)} | ${cell(spec.default ?? "—")} | ${cell(doc)} |`);
    }
  }
  return `${rows.join("\n")}\n`;
}
