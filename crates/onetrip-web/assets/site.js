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

// The signature pad at the window: the applicant signs on the screen (a tablet or a pen pad)
// and the drawing goes with the form as a PNG. Without scripts, the number of the signed paper
// form is typed instead.
(function () {
  var wrap = document.getElementById('signature-pad-wrap');
  var canvas = document.getElementById('signature-pad');
  var file = document.getElementById('signature-pad-file');
  var clear = document.getElementById('signature-pad-clear');
  var form = canvas && canvas.closest('form');
  if (!wrap || !file || !clear || !form || !canvas.getContext || !canvas.toBlob ||
      !window.DataTransfer || !form.requestSubmit) return;
  wrap.hidden = false;
  var ctx = canvas.getContext('2d');
  var drawing = false;
  var drawn = false;
  var sending = false;
  function at(e) {
    var r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
  }
  canvas.addEventListener('pointerdown', function (e) {
    drawing = true;
    canvas.setPointerCapture(e.pointerId);
    var p = at(e);
    ctx.lineWidth = 3;
    ctx.lineCap = 'round';
    ctx.strokeStyle = '#000';
    ctx.beginPath();
    ctx.moveTo(p[0], p[1]);
    e.preventDefault();
  });
  canvas.addEventListener('pointermove', function (e) {
    if (!drawing) return;
    var p = at(e);
    ctx.lineTo(p[0], p[1]);
    ctx.stroke();
    drawn = true;
  });
  function stop() { drawing = false; }
  canvas.addEventListener('pointerup', stop);
  canvas.addEventListener('pointercancel', stop);
  clear.addEventListener('click', function () {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    drawn = false;
  });
  form.addEventListener('submit', function (e) {
    if (!drawn || sending) return;
    e.preventDefault();
    var submitter = e.submitter;
    canvas.toBlob(function (blob) {
      var files = new DataTransfer();
      files.items.add(new File([blob], 'signature.png', { type: 'image/png' }));
      file.files = files.files;
      sending = true;
      form.requestSubmit(submitter);
    }, 'image/png');
  });
})();
