/* The lab consent host's banner frame: the choice goes to the embedding page (cmp.js checks the origin). */
document.querySelectorAll('#piano-cookie_banner button').forEach(function (b) {
  b.addEventListener('click', function () {
    parent.postMessage(b.hasAttribute('data-acceptance-button') ? 'accept' : 'reject', '*');
  });
});
