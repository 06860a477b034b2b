/* Sign-in page: the remembered theme, focus on the right field, no double submit. */
(function () {
  'use strict';
  try {
    var t = localStorage.getItem('ragchat.theme');
    if (t === 'dark' || t === 'light') document.documentElement.dataset.theme = t;
  } catch (e) { /* storage disabled */ }
  var user = document.getElementById('username');
  var pw = document.getElementById('password');
  if (user && user.value) pw.focus();
  var form = document.getElementById('login-form');
  form.addEventListener('submit', function () {
    var b = document.getElementById('login-submit');
    setTimeout(function () { b.disabled = true; b.textContent = 'Signing in\u2026'; }, 0);
  });
})();
