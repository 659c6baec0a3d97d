// The "Add to QGIS" line (templates/_ogcapi_link.html): its Copy button puts the OGC API
// address on the clipboard and says so; where the clipboard is refused, the address is
// selected for the user to copy. A module: it runs once the page is read, its words by t().
import { t } from "./i18n.js";

for (const button of document.querySelectorAll(".ogcapi-link .copy-url")) {
  const said = button.parentElement.querySelector(".copied");
  const address = button.parentElement.querySelector(".ogcapi-url");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(button.dataset.copy);
      said.textContent = t("copied");
    } catch {
      const range = document.createRange();
      range.selectNodeContents(address);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      said.textContent = t("selected: press Ctrl+C to copy");
    }
  });
}
