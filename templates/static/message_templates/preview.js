"use strict";
// The template form's live preview: as the content is typed, it is sent to the admin's preview endpoint
// (MessageTemplateAdmin.preview_view) and the answer drawn under it: the text rendered with an import's first
// contact or the values typed in, its encoding and parts, and each character that makes it UCS-2 marked.
// Everything from the server or the user is written with textContent, never as HTML.
(function () {
  const WAIT_MS = 300; // after the last keystroke, so typing sends one request, not one per key

  function start(box) {
    const content = document.getElementById("id_content");
    if (!content) {
      return; // a page for reading only: the saved preview stays as drawn
    }
    const owner = document.getElementById("id_owner"); // the add form only: a saved template keeps its owner
    const csrf = content.form.querySelector("[name=csrfmiddlewaretoken]");
    const imports = box.querySelector(".template-preview-import");
    const typed = box.querySelector(".template-preview-typed");
    const output = box.querySelector(".template-preview-output");
    let timer = null;
    let latest = 0;

    box.querySelector(".template-preview-sources").hidden = false;

    function later() {
      clearTimeout(timer);
      timer = setTimeout(update, WAIT_MS);
    }

    async function update() {
      const asked = ++latest;
      const body = new URLSearchParams({content: content.value, import: imports.value, values: typed.value});
      if (box.dataset.template) {
        body.set("template", box.dataset.template);
      } else if (owner) {
        body.set("owner", owner.value);
      }
      let answer;
      try {
        const response = await fetch(box.dataset.url, {
          method: "POST",
          body: body,
          headers: {"X-CSRFToken": csrf.value},
          credentials: "same-origin",
        });
        if (!response.ok) {
          throw new Error("the server answered " + response.status);
        }
        answer = await response.json();
      } catch (error) {
        if (asked === latest) {
          draw([line("p", "template-preview-note error", "No preview: " + error.message + ".")]);
        }
        return;
      }
      if (asked !== latest) {
        return; // a later keystroke's answer is on its way
      }
      offer(answer.imports || []);
      draw(answer.error ? [line("p", "template-preview-note error", answer.error)] : described(answer));
    }

    // The owner's imports in the select, keeping the one chosen while it is still theirs.
    function offer(choices) {
      imports.disabled = choices.length === 0;
      const chosen = imports.value;
      const keys = choices.map((choice) => String(choice.id));
      const shown = Array.from(imports.options).slice(1).map((option) => option.value);
      if (keys.join() === shown.join()) {
        return;
      }
      imports.length = 1; // the first option: no import
      for (const choice of choices) {
        imports.add(new Option(choice.label, String(choice.id)));
      }
      imports.value = keys.includes(chosen) ? chosen : "";
      if (imports.value !== chosen) {
        later(); // the chosen import is not the new owner's: preview without it
      }
    }

    function described(answer) {
      const parts = [];
      if (answer.rendered === null) {
        parts.push(line("p", "template-preview-note error",
          "No message: nothing for " + answer.missing.join(", ") + ". A contact without them is skipped."));
      } else {
        parts.push(marked(answer.rendered, answer.ucs2_characters));
        const plural = answer.parts === 1 ? "" : "s";
        parts.push(line("p", "template-preview-counts", answer.encoding + " · " + answer.characters +
          " characters · " + answer.units + " units · " + answer.parts + " part" + plural));
        if (answer.ucs2_characters.length) {
          const forcing = Array.from(new Set(answer.ucs2_characters.map((found) => found.character)));
          parts.push(line("p", "template-preview-note", "UCS-2 because of: " + forcing.join(" ")));
        }
        if (answer.parts > answer.max_parts) {
          parts.push(line("p", "template-preview-note error",
            "Too long: at most " + answer.max_parts + " parts are sent; such a message is skipped."));
        }
      }
      if (answer.placeholders) {
        if (answer.variables.length) {
          parts.push(line("p", "template-preview-note",
            "<name> stands in for each value: choose an import or type values to measure a real message."));
        }
      } else {
        const used = Object.entries(answer.values).map(([name, value]) => name + " = " + value);
        parts.push(line("p", "template-preview-values", "With " + used.join(" · ")));
      }
      return parts;
    }

    later();
    content.addEventListener("input", later);
    typed.addEventListener("input", later);
    imports.addEventListener("change", later);
    if (owner) {
      owner.addEventListener("input", later);
      owner.addEventListener("change", later);
      if (window.django && window.django.jQuery) {
        window.django.jQuery(owner).on("change", later); // the lookup popup tells only jQuery's listeners
      }
    }

    function draw(nodes) {
      output.replaceChildren(...nodes);
    }
  }

  function line(tag, classes, text) {
    const node = document.createElement(tag);
    node.className = classes;
    node.textContent = text;
    return node;
  }

  // The rendered text, each character that makes it UCS-2 in a <mark>. Positions count code points, as
  // Array.from splits a string (an emoji is one).
  function marked(text, forcing) {
    const positions = new Set(forcing.map((found) => found.position));
    const box = line("div", "template-preview-text", "");
    let plain = "";
    Array.from(text).forEach((ch, position) => {
      if (!positions.has(position)) {
        plain += ch;
        return;
      }
      box.append(plain);
      plain = "";
      box.append(line("mark", "template-preview-ucs2", ch));
    });
    box.append(plain);
    return box;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".template-preview").forEach(start);
  });
})();
