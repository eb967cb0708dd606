// Turn each tabpane's tabs into buttons; without JavaScript all tabs stay visible.
document.querySelectorAll(".tabpane").forEach(function (pane) {
  var tabs = pane.querySelectorAll(":scope > .tab");
  var bar = document.createElement("div");
  bar.className = "tab-buttons";
  tabs.forEach(function (tab, i) {
    var b = document.createElement("button");
    b.textContent = tab.dataset.header;
    b.onclick = function () {
      tabs.forEach(function (t, j) { t.hidden = j !== i; });
      bar.querySelectorAll("button").forEach(function (x, j) { x.classList.toggle("active", j === i); });
    };
    bar.appendChild(b);
  });
  pane.insertBefore(bar, pane.firstChild);
  if (tabs.length) { bar.firstChild.click(); }
});
