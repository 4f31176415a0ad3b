// Tables readable on a phone: static/css/vouch.css draws a table of four or more columns
// (or one marked data-stack="always") as one card per row under 576 px, each value beside
// its column's name, which this copies from the header into the cell's data-label.
// data-stack="never" keeps a table as it is. The ARIA roles keep the table's meaning for
// screen readers once its rows are no longer drawn as a table.
(function () {
  const headerText = (th) => {
    const copy = th.cloneNode(true);
    copy.querySelectorAll(".visually-hidden").forEach((hidden) => hidden.remove());
    return copy.textContent.replace(/\s+/g, " ").trim();
  };

  const columnNames = (table) => {
    const row = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    const names = [];
    Array.from(row ? row.cells : []).forEach((th) => {
      for (let span = 0; span < th.colSpan; span += 1) names.push(headerText(th));
    });
    return names;
  };

  const isBlank = (cell) =>
    !cell.textContent.trim() && !cell.querySelector("img, input, select, button, svg");

  const labelCell = (cell, name) => {
    cell.setAttribute("role", cell.tagName === "TH" ? "rowheader" : "cell");
    if (isBlank(cell)) {
      cell.classList.add("cell-blank"); // no line on the card for nothing
    } else if (name && cell.colSpan === 1) {
      cell.dataset.label = name;
      // the value in one box, so that the name and it sit side by side on a phone
      const value = document.createElement("div");
      value.className = "cell-value";
      value.append(...cell.childNodes);
      cell.append(value);
    }
  };

  document.querySelectorAll("main table.table").forEach((table) => {
    const names = columnNames(table);
    const wanted = table.dataset.stack;
    if (wanted === "never" || (wanted !== "always" && names.length < 4)) return;
    table.classList.add("table-stack");
    table.setAttribute("role", "table");
    table.querySelectorAll(":scope > thead, :scope > tbody, :scope > tfoot").forEach((group) => {
      group.setAttribute("role", "rowgroup");
    });
    Array.from(table.rows).forEach((row) => {
      row.setAttribute("role", "row");
      if (row.parentElement === table.tHead) {
        Array.from(row.cells).forEach((th) => th.setAttribute("role", "columnheader"));
        return;
      }
      let column = 0;
      Array.from(row.cells).forEach((cell) => {
        labelCell(cell, names[column]);
        column += cell.colSpan;
      });
    });
  });
})();
