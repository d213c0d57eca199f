// Site-wide behaviour: the phone menu, which links boosted navigation must leave alone, and where
// focus goes after a page is swapped in (so keyboard and screen-reader users land on the content).
(function () {
  "use strict";

  // Downloads, media files and new tabs are real navigations, not pages to swap in.
  const NOT_A_PAGE = "a[download], a[target], a[href^='/clips/'][href*='/audio'], a[href*='/captions'], a[href^='/static/'], a[href^='/docs']";
  document.addEventListener("htmx:beforeProcessNode", (event) => {
    const el = event.target;
    if (el.matches && el.matches(NOT_A_PAGE)) el.setAttribute("hx-boost", "false");
  });

  function menu() {
    return document.querySelector(".menu-button");
  }

  function setMenu(open) {
    const button = menu();
    if (!button) return;
    button.setAttribute("aria-expanded", String(open));
    document.getElementById("shell").classList.toggle("menu-open", open);
  }

  document.addEventListener("click", (event) => {
    if (event.target.closest && event.target.closest(".menu-button")) {
      setMenu(menu().getAttribute("aria-expanded") !== "true");
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu() && menu().getAttribute("aria-expanded") === "true") {
      setMenu(false);
      menu().focus();
    }
  });

  // After boosted navigation: to the top, focus on the new page's content.
  document.addEventListener("htmx:afterSettle", (event) => {
    const detail = event.detail || {};
    if (!detail.boosted) return;
    window.scrollTo(0, 0);
    const main = document.getElementById("main");
    if (main) main.focus({ preventScroll: true });
  });
})();
