// The SF code editor of slicewidgets: CodeMirror 6 inside an anywidget view.
//
// Model traits (see slicewidgets/widgets/code.py): value (the text, synced back as the user
// types, debounced), completions (column names offered after "x."), errors ({line: message},
// marked in the gutter and on the line), busy (an Apply is running), height.
// Shift+Enter sends {type: "apply"} to the kernel. No key typed here reaches the notebook's
// shortcuts: keydown stops propagating at the editor's root, and the root carries Lumino's
// data-lm-suppress-shortcuts attribute.

import { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, Decoration, placeholder as cmPlaceholder } from "@codemirror/view";
import { EditorState, StateField, StateEffect, Compartment } from "@codemirror/state";
import { defaultKeymap, history, historyKeymap, indentLess, indentMore,
  insertNewlineAndIndent } from "@codemirror/commands";
import { indentOnInput, indentUnit, bracketMatching, syntaxHighlighting,
  HighlightStyle } from "@codemirror/language";
import { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap,
  acceptCompletion, completionStatus } from "@codemirror/autocomplete";
import { setDiagnostics, lintGutter } from "@codemirror/lint";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { python, pythonLanguage } from "@codemirror/lang-python";
import { tags as t } from "@lezer/highlight";

const v = (name, fallback) => `var(${name}, ${fallback})`;

// Colours follow JupyterLab's theme (light and dark) with fallbacks for other frontends.
const highlight = HighlightStyle.define([
  { tag: t.keyword, color: v("--jp-mirror-editor-keyword-color", "#008000"), fontWeight: "bold" },
  { tag: [t.string, t.special(t.string)], color: v("--jp-mirror-editor-string-color", "#ba2121") },
  { tag: t.comment, color: v("--jp-mirror-editor-comment-color", "#408080"), fontStyle: "italic" },
  { tag: [t.number, t.bool, t.null], color: v("--jp-mirror-editor-number-color", "#080") },
  { tag: t.operator, color: v("--jp-mirror-editor-operator-color", "#aa22ff") },
  { tag: [t.definition(t.variableName), t.function(t.definition(t.variableName))],
    color: v("--jp-mirror-editor-def-color", "#0000ff") },
  { tag: t.meta, color: v("--jp-mirror-editor-meta-color", "#aa22ff") },
  { tag: t.propertyName, color: v("--jp-mirror-editor-property-color", "#05a") },
  { tag: t.bracket, color: v("--jp-mirror-editor-bracket-color", "#997") },
  { tag: t.variableName, color: v("--jp-mirror-editor-variable-color", "inherit") },
]);

const theme = EditorView.theme({
  "&": {
    color: v("--jp-content-font-color1", "#1f1f1f"),
    backgroundColor: v("--jp-cell-editor-background", "#f7f7f7"),
    border: `1px solid ${v("--jp-cell-editor-border-color", "#d0d0d0")}`,
    borderRadius: "2px",
    fontSize: v("--jp-code-font-size", "13px"),
  },
  "&.cm-focused": { outline: `1px solid ${v("--jp-cell-editor-active-border-color", "#1976d2")}` },
  ".cm-scroller": { fontFamily: v("--jp-code-font-family", "monospace"), lineHeight: "1.4" },
  ".cm-content": { caretColor: v("--jp-editor-cursor-color", "#000") },
  ".cm-cursor, .cm-dropCursor": { borderLeftColor: v("--jp-editor-cursor-color", "#000") },
  ".cm-gutters": {
    backgroundColor: v("--jp-cell-editor-background", "#f7f7f7"),
    color: v("--jp-ui-font-color2", "#757575"),
    borderRight: `1px solid ${v("--jp-border-color2", "#e0e0e0")}`,
  },
  ".cm-activeLine": { backgroundColor: v("--jp-cell-editor-active-background", "rgba(0,0,0,0.04)") },
  ".cm-activeLineGutter": { backgroundColor: "transparent", color: v("--jp-ui-font-color1", "#333") },
  "&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection": {
    backgroundColor: v("--jp-editor-selected-focused-background", "rgba(33,150,243,0.24)"),
  },
  ".cm-matchingBracket": { backgroundColor: "rgba(0,160,0,0.22)", outline: "none" },
  ".cm-sw-error-line": { backgroundColor: v("--jp-error-color3", "rgba(211,47,47,0.12)") },
  ".cm-tooltip": {
    backgroundColor: v("--jp-layout-color1", "#fff"),
    color: v("--jp-ui-font-color1", "#222"),
    border: `1px solid ${v("--jp-border-color1", "#bbb")}`,
  },
  ".cm-tooltip-autocomplete ul li[aria-selected]": {
    backgroundColor: v("--jp-brand-color1", "#1976d2"), color: "#fff",
  },
});

// error lines: a line decoration for every line of the "errors" trait
const setErrorLines = StateEffect.define();
const errorLines = StateField.define({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) if (e.is(setErrorLines)) deco = e.value;
    return deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

function errorEffects(view, errors) {
  const doc = view.state.doc;
  const marks = [];
  const diagnostics = [];
  const lines = Object.keys(errors || {}).map(Number).filter((n) => n >= 1).sort((a, b) => a - b);
  for (const n of lines) {
    const line = doc.line(Math.min(n, doc.lines));
    marks.push(Decoration.line({ class: "cm-sw-error-line",
      attributes: { "data-error-line": String(n), title: errors[String(n)] } }).range(line.from));
    diagnostics.push({ from: line.from, to: line.to, severity: "error",
      message: errors[String(n)] });
  }
  return [setErrorLines.of(Decoration.set(marks, true)),
    setDiagnostics(view.state, diagnostics).effects].flat();
}

// completion of `x.<column>` from the frame's columns
function columnCompletion(getColumns) {
  return (context) => {
    const before = context.matchBefore(/[A-Za-z_][\w]*\.[\w]*$/);
    if (!before) return null;
    const dot = before.text.indexOf(".");
    const columns = getColumns();
    if (!columns.length) return null;
    return {
      from: before.from + dot + 1,
      options: columns.map((c) => ({ label: c, type: "property", detail: "column" })),
      validFor: /^\w*$/,
    };
  };
}

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "sw-code-editor";
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  root.setAttribute("lm-suppress-shortcuts", "true");
  el.appendChild(root);
  // Keys typed here must never reach JupyterLab's (or the notebook's) shortcuts.
  for (const type of ["keydown", "keypress", "keyup"]) {
    root.addEventListener(type, (event) => event.stopPropagation());
  }

  let timer = null;
  const flush = () => {
    if (timer !== null) { clearTimeout(timer); timer = null; }
    const text = view.state.doc.toString();
    if (text !== model.get("value")) {
      model.set("value", text);
      model.save_changes();
    }
  };
  const apply = () => {
    flush();
    model.send({ type: "apply" });
    return true;
  };
  const tab = (view) => (completionStatus(view.state) === "active" ? acceptCompletion(view)
    : indentMore(view));

  const heightConf = new Compartment();
  // grows with the text up to `height`, then scrolls inside
  const sizing = (h) => EditorView.theme({ "&": { maxHeight: h, minHeight: "140px" },
    ".cm-scroller": { overflow: "auto" } });

  const view = new EditorView({
    parent: root,
    state: EditorState.create({
      doc: model.get("value") || "",
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), highlightActiveLine(), history(),
        drawSelection(), indentOnInput(), bracketMatching(), closeBrackets(),
        highlightSelectionMatches(), lintGutter(), errorLines,
        indentUnit.of("    "), EditorState.tabSize.of(4),
        python(),
        pythonLanguage.data.of({ autocomplete: columnCompletion(() => model.get("completions") || []) }),
        autocompletion({ activateOnTyping: true }),
        syntaxHighlighting(highlight), theme,
        heightConf.of(sizing(model.get("height") || "260px")),
        cmPlaceholder("# write slicing functions here; Shift+Enter applies"),
        keymap.of([
          { key: "Shift-Enter", run: apply },
          { key: "Tab", run: tab, shift: indentLess },
          { key: "Enter", run: insertNewlineAndIndent },
          ...closeBracketsKeymap, ...completionKeymap, ...searchKeymap, ...historyKeymap,
          ...defaultKeymap,
        ]),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) {
            if (timer !== null) clearTimeout(timer);
            timer = setTimeout(flush, 250);
          }
          if (update.focusChanged && !update.view.hasFocus) flush();
        }),
      ],
    }),
  });
  root.cmView = view; // for tests and debugging

  const onValue = () => {
    const text = model.get("value") || "";
    if (text === view.state.doc.toString()) return;
    if (timer !== null) { clearTimeout(timer); timer = null; }
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
  };
  const onErrors = () => view.dispatch({ effects: errorEffects(view, model.get("errors")) });
  const onBusy = () => root.classList.toggle("sw-code-busy", !!model.get("busy"));
  const onHeight = () => view.dispatch({ effects: heightConf.reconfigure(sizing(model.get("height") || "260px")) });
  model.on("change:value", onValue);
  model.on("change:errors", onErrors);
  model.on("change:busy", onBusy);
  model.on("change:height", onHeight);
  onErrors();
  onBusy();

  return () => {
    flush();
    model.off("change:value", onValue);
    model.off("change:errors", onErrors);
    model.off("change:busy", onBusy);
    model.off("change:height", onHeight);
    view.destroy();
  };
}

export default { render };
