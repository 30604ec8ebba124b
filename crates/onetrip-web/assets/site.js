// The progressive enhancements of the pages; every page works without them. Loaded only by
// the pages that use one; each does nothing unless its elements are on the page.

// The calendar import: a file chosen in the picker fills the textarea (without scripts, paste it).
(function () {
  var wrap = document.getElementById('document-file-wrap');
  var file = document.getElementById('document-file');
  var text = document.getElementById('document');
  if (!wrap || !file || !text || !window.Blob || !Blob.prototype.text) return;
  wrap.hidden = false;
  file.addEventListener('change', function () {
    var chosen = file.files && file.files[0];
    if (chosen) chosen.text().then(function (s) { text.value = s; });
  });
})();

// The print views: a button that opens the print dialog (without scripts, the browser's own
// Print does the same; the page itself is the printable document).
(function () {
  var buttons = document.querySelectorAll('.print-button');
  for (var i = 0; i < buttons.length; i += 1) {
    buttons[i].hidden = false;
    buttons[i].addEventListener('click', function () { window.print(); });
  }
})();
