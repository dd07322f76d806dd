// The printable statement: open the browser's print dialog once the page has loaded.
window.addEventListener("load", function () { window.print(); });
