/* s3site search page: Pagefind's JavaScript API behind the site's own form.
 *
 * The page (templates/search.html) holds a form with a search field, an empty
 * box for the filters and a results list. This script:
 * - loads pagefind.js from the site's pagefind/ folder (data-pagefind), so it
 *   works under any base path and asks no other host for anything;
 * - builds one fieldset of checkboxes per filter (theme, country, region,
 *   status, start year) with the number of results each would give;
 * - keeps the words and the ticked filters in the address (?q=...&theme=...),
 *   pushing a history entry for each submitted search or ticked box, so a
 *   search can be shared, survives a reload and the back button steps back;
 * - says how many results there are in a polite live region.
 * Values ticked in one filter are alternatives (OR); different filters must
 * all match (AND). A filter's counts leave out that filter's own ticks, so
 * they say what ticking one more value would add.
 */
(function () {
  "use strict";

  var root = document.getElementById("search");
  if (!root || !window.URLSearchParams || !window.history.pushState) {
    return;
  }
  var FACETS = [
    { key: "theme", label: "Theme" },
    { key: "country", label: "Country" },
    { key: "region", label: "Region" },
    { key: "status", label: "Status" },
    { key: "year", label: "Start year" }
  ];
  var FOLD_AFTER = 8; // a filter with more values shows this many until expanded
  var perPage = parseInt(root.getAttribute("data-per-page"), 10) || 10;

  var noJs = document.getElementById("search-nojs");
  var form = document.getElementById("search-form");
  var input = document.getElementById("search-q");
  var facetBox = document.getElementById("search-facets");
  var clearLine = document.getElementById("search-clear");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-list");
  var more = document.getElementById("search-more");
  var empty = document.getElementById("search-empty");

  var pagefind = null;
  var groups = {}; // key -> {fieldset, list, toggle, items: {value -> {li, box, count}}, expanded}
  var results = []; // the current results, not yet all shown
  var shown = 0;
  var runId = 0;
  var typingTimer = null;

  noJs.hidden = true;
  root.hidden = false;

  function text(tag, className, content) {
    var element = document.createElement(tag);
    if (className) {
      element.className = className;
    }
    if (content !== undefined) {
      element.textContent = content;
    }
    return element;
  }

  function say(message) {
    status.textContent = message;
  }

  function plural(count, one, many) {
    return count + " " + (count === 1 ? one : many);
  }

  /* Filters ---------------------------------------------------------------- */

  function makeGroups() {
    FACETS.forEach(function (facet) {
      var fieldset = text("fieldset", "facet");
      fieldset.appendChild(text("legend", "", facet.label));
      var values = text("ul", "facet-values");
      fieldset.appendChild(values);
      var toggle = text("button", "facet-toggle");
      toggle.type = "button";
      toggle.hidden = true;
      toggle.setAttribute("aria-expanded", "false");
      fieldset.appendChild(toggle);
      facetBox.appendChild(fieldset);
      var group = { key: facet.key, label: facet.label, fieldset: fieldset, list: values,
                    toggle: toggle, items: {}, expanded: false };
      toggle.addEventListener("click", function () {
        group.expanded = !group.expanded;
        showCounts(group, group.counts || {});
      });
      groups[facet.key] = group;
    });
  }

  function addValue(group, value) {
    if (group.items[value]) {
      return group.items[value];
    }
    var id = "f-" + group.key + "-" + Object.keys(group.items).length;
    var li = text("li", "facet-value");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.id = id;
    box.name = group.key;
    box.value = value;
    var label = text("label", "", value);
    label.htmlFor = id;
    var count = text("span", "facet-count");
    label.appendChild(document.createTextNode(" "));
    label.appendChild(count);
    li.appendChild(box);
    li.appendChild(label);
    group.list.appendChild(li);
    group.items[value] = { li: li, box: box, count: count, value: value };
    return group.items[value];
  }

  function selected() {
    var chosen = {};
    FACETS.forEach(function (facet) {
      var group = groups[facet.key];
      chosen[facet.key] = Object.keys(group.items).filter(function (value) {
        return group.items[value].box.checked;
      });
    });
    return chosen;
  }

  function pagefindFilters(chosen, leaveOut) {
    var filters = {};
    Object.keys(chosen).forEach(function (key) {
      if (key !== leaveOut && chosen[key].length) {
        filters[key] = { any: chosen[key] };
      }
    });
    return filters;
  }

  function order(group, counts) {
    var values = Object.keys(group.items);
    return values.sort(function (a, b) {
      if (group.key === "year") {
        return b.localeCompare(a);
      }
      return (counts[b] || 0) - (counts[a] || 0) || a.localeCompare(b);
    });
  }

  /* Show each value's count; hide values with none unless ticked or focused. */
  function showCounts(group, counts) {
    group.counts = counts;
    var focused = document.activeElement;
    var values = order(group, counts);
    var visible = values.filter(function (value) {
      var item = group.items[value];
      return counts[value] || item.box.checked || item.box === focused;
    });
    var folded = !group.expanded && visible.length > FOLD_AFTER;
    var current = Array.prototype.map.call(group.list.children, function (li) {
      return li.querySelector("input").value;
    });
    if (current.join("\n") !== values.join("\n")) {
      values.forEach(function (value) {
        group.list.appendChild(group.items[value].li);
      });
      if (focused && group.list.contains(focused) && document.activeElement !== focused) {
        focused.focus(); // moving a focused box drops its focus
      }
    }
    var seen = 0;
    values.forEach(function (value) {
      var item = group.items[value];
      var show = visible.indexOf(value) !== -1;
      if (show) {
        seen += 1;
        if (folded && seen > FOLD_AFTER && !item.box.checked && item.box !== focused) {
          show = false;
        }
      }
      item.li.hidden = !show;
      item.count.textContent = "(" + (counts[value] || 0) + ")";
    });
    group.fieldset.hidden = visible.length === 0;
    group.toggle.hidden = visible.length <= FOLD_AFTER;
    group.toggle.textContent = group.expanded ? "Show fewer" : "Show all " + visible.length;
    group.toggle.setAttribute("aria-expanded", group.expanded ? "true" : "false");
  }

  /* The address ------------------------------------------------------------ */

  function addressFor(words, chosen) {
    var params = new URLSearchParams();
    if (words) {
      params.set("q", words);
    }
    FACETS.forEach(function (facet) {
      chosen[facet.key].forEach(function (value) {
        params.append(facet.key, value);
      });
    });
    var query = params.toString();
    return window.location.pathname + (query ? "?" + query : "");
  }

  function remember(how) {
    var address = addressFor(input.value.trim(), selected());
    if (address !== window.location.pathname + window.location.search) {
      window.history[how === "push" ? "pushState" : "replaceState"]({ s3search: true }, "", address);
    }
  }

  function restore() {
    var params = new URLSearchParams(window.location.search);
    input.value = params.get("q") || "";
    FACETS.forEach(function (facet) {
      var group = groups[facet.key];
      var wanted = params.getAll(facet.key);
      wanted.forEach(function (value) {
        addValue(group, value);
      });
      Object.keys(group.items).forEach(function (value) {
        group.items[value].box.checked = wanted.indexOf(value) !== -1;
      });
    });
  }

  /* Searching -------------------------------------------------------------- */

  async function run() {
    var id = ++runId;
    var words = input.value.trim();
    var chosen = selected();
    var ticked = FACETS.filter(function (facet) { return chosen[facet.key].length; });
    var options = { filters: pagefindFilters(chosen) };
    if (!words) {
      options.sort = { date: "desc" };
    }
    var found = await pagefind.search(words || null, options);
    // Counts for a filter with ticks come from the same search without them.
    var counts = {};
    for (var i = 0; i < FACETS.length; i += 1) {
      var key = FACETS[i].key;
      if (chosen[key].length) {
        var other = await pagefind.search(words || null, { filters: pagefindFilters(chosen, key) });
        counts[key] = other.filters[key] || {};
      } else {
        counts[key] = found.filters[key] || {};
      }
    }
    if (id !== runId) {
      return; // a newer search has started
    }
    FACETS.forEach(function (facet) {
      var group = groups[facet.key];
      Object.keys(counts[facet.key]).forEach(function (value) {
        addValue(group, value);
      });
      showCounts(group, counts[facet.key]);
    });
    clearLine.hidden = ticked.length === 0;
    results = found.results;
    shown = 0;
    list.textContent = "";
    await showMore(id, false);
    if (id !== runId) {
      return;
    }
    empty.hidden = results.length > 0;
    say(summary(words, ticked, results.length));
  }

  function summary(words, ticked, count) {
    var about = words ? " for \u201c" + words + "\u201d" : "";
    var chosen = selected();
    var filtered = ticked.length
      ? (words ? "," : "") + " filtered by " + ticked.map(function (facet) {
        return facet.label.toLowerCase() + ": " + chosen[facet.key].join(" or ");
      }).join("; ")
      : "";
    if (count === 0) {
      return "No results" + about + filtered + ". " +
        (ticked.length ? "Try removing a filter." : "Try other or fewer words.");
    }
    if (!words && !ticked.length) {
      return "All " + plural(count, "practice", "practices") + ", newest first. " +
        "Type words or tick filters to narrow them down.";
    }
    return plural(count, words ? "result" : "practice", words ? "results" : "practices") +
      about + filtered + ".";
  }

  async function showMore(id, moveFocus) {
    var batch = results.slice(shown, shown + perPage);
    var data = await Promise.all(batch.map(function (result) { return result.data(); }));
    if (id !== runId) {
      return;
    }
    var first = null;
    data.forEach(function (page) {
      var item = card(page);
      list.appendChild(item);
      first = first || item;
    });
    shown += batch.length;
    more.hidden = shown >= results.length;
    more.textContent = "Show more results (" + (results.length - shown) + " left)";
    if (moveFocus && first) {
      first.querySelector("a").focus();
    }
  }

  function card(page) {
    var meta = page.meta || {};
    var filters = page.filters || {};
    var item = text("li", "card search-result");
    if (meta.image) {
      var image = document.createElement("img");
      image.className = "search-thumb";
      image.src = meta.image;
      image.alt = "";
      image.loading = "lazy";
      item.appendChild(image);
    }
    var title = text("h3", "card-title");
    var link = text("a", "", meta.title || page.url);
    link.href = page.url;
    title.appendChild(link);
    item.appendChild(title);
    var summaryText = meta.summary || plainText(page.excerpt);
    if (summaryText) {
      item.appendChild(text("p", "card-summary", summaryText));
    }
    var facts = text("p", "card-meta");
    if (meta.location) {
      var place = text("span", "search-place");
      place.appendChild(text("span", "visually-hidden", "Location: "));
      place.appendChild(document.createTextNode(meta.location));
      facts.appendChild(place);
    }
    if (filters.theme && filters.theme.length) {
      var themes = text("span", "search-themes");
      themes.appendChild(text("span", "visually-hidden", "Themes: "));
      themes.appendChild(document.createTextNode(filters.theme.join(" \u00b7 ")));
      facts.appendChild(themes);
    }
    if (filters.status && filters.status.length) {
      var state = filters.status[0];
      facts.appendChild(text("span", "status status-" + state.toLowerCase(), state));
    }
    if (facts.childNodes.length) {
      item.appendChild(facts);
    }
    return item;
  }

  /* Pagefind's excerpt is HTML with <mark>; only its text is shown. */
  function plainText(html) {
    if (!html) {
      return "";
    }
    return new DOMParser().parseFromString(html, "text/html").body.textContent || "";
  }

  function failed(error) {
    root.hidden = true;
    noJs.hidden = false;
    document.getElementById("search-nojs-message").textContent =
      "The search index could not be loaded (" + (error && error.message ? error.message : error) +
      "). Every practice can still be found through these lists:";
  }

  /* Events ----------------------------------------------------------------- */

  function searchNow(how) {
    window.clearTimeout(typingTimer);
    remember(how);
    return run();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    searchNow("push");
  });
  input.addEventListener("input", function () {
    window.clearTimeout(typingTimer);
    typingTimer = window.setTimeout(function () { searchNow("replace"); }, 300);
  });
  facetBox.addEventListener("change", function (event) {
    if (event.target.type === "checkbox") {
      searchNow("push");
    }
  });
  clearLine.querySelector("button").addEventListener("click", function () {
    Object.keys(groups).forEach(function (key) {
      Object.keys(groups[key].items).forEach(function (value) {
        groups[key].items[value].box.checked = false;
      });
    });
    input.focus();
    searchNow("push");
  });
  more.addEventListener("click", function () {
    showMore(runId, true);
  });
  window.addEventListener("popstate", function () {
    restore();
    run();
  });

  async function start() {
    say("Loading search\u2026");
    makeGroups();
    try {
      pagefind = await import(root.getAttribute("data-pagefind"));
      await pagefind.options({ baseUrl: root.getAttribute("data-base"), excerptLength: 30 });
      await pagefind.init();
      var all = await pagefind.filters();
      FACETS.forEach(function (facet) {
        Object.keys(all[facet.key] || {}).forEach(function (value) {
          addValue(groups[facet.key], value);
        });
      });
    } catch (error) {
      failed(error);
      return;
    }
    restore();
    await run();
  }

  start();
})();
