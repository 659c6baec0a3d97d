"""The English words an Arabic page still shows once its scripts ran, read in Chromium: each
visible text node and each visible title, aria-label, placeholder and alt, less figures and
addresses (dir="ltr", but not the map's container, whose controls are interface), user text
(<bdi>, dir="auto"), the server's own English (lang="en"), keys and code."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: [where, word] for each English word a reader meets on the page, `data` (user text) left out
ENGLISH_LEFT = """([allowed, data]) => {
  const found = [];
  const words = (text) => {
    for (const value of data) text = text.split(value).join(" ");
    return (text.match(/[A-Za-z]{2,}/g) || []).filter((word) => !allowed.includes(word));
  };
  const where = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (typeof el.className === "string" && el.className ? "." + el.className.split(" ")[0] : "");
  // figures and addresses (dir=ltr, but not the map's container), user text, keys, code
  const skipped = "script, style, code, kbd, bdi, svg, [dir=auto], [lang=en], " +
    "[dir=ltr]:not(.leaflet-container)";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!el || el.closest(skipped) || !el.checkVisibility()) continue;
    const text = walker.currentNode.textContent;
    for (const word of words(text)) found.push([where(el) + " " + text.trim().slice(0, 40), word]);
  }
  for (const el of document.body.querySelectorAll("[title], [aria-label], [placeholder], [alt]")) {
    if (el.closest("[dir=auto], [lang=en], [dir=ltr]:not(.leaflet-container)")) continue;
    if (!el.checkVisibility()) continue;
    for (const name of ["title", "aria-label", "placeholder", "alt"]) {
      const value = el.getAttribute(name);
      if (value) for (const word of words(value)) found.push([where(el) + "@" + name, word]);
    }
  }
  return found;
}"""


def english_left_on(page: Any, data: list[str], allowed: Iterable[str]) -> list[tuple[str, str]]:
    """[where, word] for each English word left on `page`, the strings of `data` (what people
    wrote or named, shown as data) and the `allowed` names (formats, software) aside."""
    found = page.evaluate(ENGLISH_LEFT, [sorted(allowed), data])
    return [(str(where), str(word)) for where, word in found]
