// panelftp panel script. Everything here is an enhancement: each page
// also works without it. Loaded with "defer", so the DOM is ready.
(function () {
  'use strict';

  // ---- Passwords: generate, show, strength -------------------------------

  var UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  var LOWER = 'abcdefghijklmnopqrstuvwxyz';
  var DIGITS = '0123456789';
  var SYMBOLS = '!#$%*+-=?@^_~.,:';
  var GENERATED_LENGTH = 20;

  // randomInt returns a uniform integer in [0, n) from the browser's
  // cryptographic generator, rejecting the biased top of the range.
  function randomInt(n) {
    var buf = new Uint32Array(1);
    var limit = Math.floor(0x100000000 / n) * n;
    do { crypto.getRandomValues(buf); } while (buf[0] >= limit);
    return buf[0] % n;
  }

  function pick(set) { return set.charAt(randomInt(set.length)); }

  // generatePassword always satisfies the server's rules: 20 characters
  // with at least one of each class, and never containing the username.
  function generatePassword(avoid) {
    var all = UPPER + LOWER + DIGITS + SYMBOLS;
    for (;;) {
      var chars = [pick(UPPER), pick(LOWER), pick(DIGITS), pick(SYMBOLS)];
      while (chars.length < GENERATED_LENGTH) chars.push(pick(all));
      for (var i = chars.length - 1; i > 0; i--) {
        var j = randomInt(i + 1);
        var t = chars[i]; chars[i] = chars[j]; chars[j] = t;
      }
      var pw = chars.join('');
      var lower = pw.toLowerCase();
      var clash = avoid.some(function (a) { return a.length >= 3 && lower.indexOf(a) >= 0; });
      if (!clash) return pw;
    }
  }

  // missingRules lists what the password still lacks, in the server's terms.
  function missingRules(pw, avoid) {
    var miss = [];
    if (pw.length < 8) miss.push('8 characters');
    if (pw.length > 64) miss.push('at most 64 characters');
    if (!/[A-Z]/.test(pw)) miss.push('an uppercase letter');
    if (!/[a-z]/.test(pw)) miss.push('a lowercase letter');
    if (!/[0-9]/.test(pw)) miss.push('a digit');
    if (!/[^A-Za-z0-9 ]/.test(pw)) miss.push('a special symbol');
    var lower = pw.toLowerCase();
    if (avoid.some(function (a) { return a.length >= 3 && lower.indexOf(a) >= 0; })) miss.push('not the username');
    return miss;
  }

  function strength(pw, avoid) {
    if (!pw) return { score: 0, text: 'Empty' };
    var miss = missingRules(pw, avoid);
    if (miss.length) return { score: pw.length >= 8 ? 1 : 0, text: 'Needs ' + miss.join(', ') };
    var score = 1;
    if (pw.length >= 12) score++;
    if (pw.length >= 16) score++;
    if (new Set(pw).size >= 10 && pw.length >= 14) score++;
    return { score: Math.min(score, 4), text: ['Too weak', 'Weak', 'Fair', 'Good', 'Strong'][Math.min(score, 4)] };
  }

  function avoidList(box) {
    var names = [];
    var user = box.getAttribute('data-username') || '';
    var from = box.getAttribute('data-username-from');
    if (from && document.getElementById(from)) user = document.getElementById(from).value;
    user = user.trim().toLowerCase();
    if (user) {
      names.push(user);
      var dot = user.lastIndexOf('.');
      if (dot > 0) names.push(user.slice(0, dot));
    }
    return names;
  }

  document.querySelectorAll('[data-password-tools]').forEach(function (box) {
    var input = box.querySelector('input');
    var gen = box.querySelector('[data-generate]');
    var show = box.querySelector('[data-show]');
    var meterBox = box.querySelector('[data-strength]');
    var meter = meterBox.querySelector('meter');
    var text = meterBox.querySelector('[data-strength-text]');
    var confirmID = box.getAttribute('data-confirm');
    var confirm = confirmID ? document.getElementById(confirmID) : null;

    function setVisible(on) {
      input.type = on ? 'text' : 'password';
      if (confirm) confirm.type = input.type;
      show.textContent = on ? 'Hide' : 'Show';
      show.setAttribute('aria-pressed', on ? 'true' : 'false');
    }
    function update() {
      var s = strength(input.value, avoidList(box));
      meter.value = s.score;
      text.textContent = s.text;
    }
    gen.hidden = show.hidden = meterBox.hidden = false;
    gen.addEventListener('click', function () {
      input.value = generatePassword(avoidList(box));
      if (confirm) confirm.value = input.value;
      setVisible(true); // a generated password must be seen to be copied
      update();
      input.focus();
      input.select();
    });
    show.addEventListener('click', function () { setVisible(input.type === 'password'); });
    input.addEventListener('input', update);
    update();
  });

  // ---- Search: filter table rows as you type ------------------------------

  document.querySelectorAll('input[data-filter]').forEach(function (input) {
    var table = document.getElementById(input.getAttribute('data-filter'));
    if (!table) return;
    var noMatch = table.querySelector('[data-no-match]');
    function apply() {
      var q = input.value.trim().toLowerCase();
      var rows = table.querySelectorAll('tbody tr[data-search]');
      var shown = 0;
      rows.forEach(function (tr) {
        var hit = !q || tr.getAttribute('data-search').indexOf(q) >= 0;
        tr.hidden = !hit;
        if (hit) shown++;
      });
      if (noMatch) noMatch.hidden = !(rows.length && shown === 0);
    }
    input.addEventListener('input', apply);
  });

  // ---- Delete: the button turns into Confirm for 5 seconds ----------------

  var CONFIRM_MS = 5000;
  document.querySelectorAll('form[data-confirm-delete]').forEach(function (form) {
    var btn = form.querySelector('button[type="submit"]');
    var confirm = form.querySelector('input[name="confirm"]');
    var label = btn.textContent;
    var timer = null;
    function disarm() {
      timer = null;
      btn.textContent = label;
      btn.classList.remove('armed');
      delete btn.dataset.armed;
    }
    form.addEventListener('submit', function (e) {
      if (btn.dataset.armed) {
        clearTimeout(timer);
        confirm.value = '1';
        return; // second click within the window: delete
      }
      e.preventDefault();
      btn.dataset.armed = '1';
      btn.textContent = 'Confirm';
      btn.classList.add('armed');
      timer = setTimeout(disarm, CONFIRM_MS);
    });
  });

  // ---- Connections: refresh the table from the JSON feed -------------------

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function cells(s, admin) {
    var out = [];
    var user = el('th', { scope: 'row', 'data-label': 'Username' });
    user.appendChild(el('span', { 'class': 'mono' }, s.username));
    out.push(user);
    if (admin) out.push(el('td', { 'data-label': 'Account' }, s.account));
    var ip = el('td', { 'data-label': 'Client IP' });
    ip.appendChild(el('span', { 'class': 'mono' }, s.client_ip));
    out.push(ip);
    out.push(el('td', { 'data-label': 'Client' }, s.client));
    out.push(el('td', { 'data-label': 'TLS' }, s.tls));
    out.push(el('td', { 'data-label': 'Connected since' }, s.connected_since + ' (' + s.connected_for + ')'));
    out.push(el('td', { 'data-label': 'Idle for' }, s.idle_for));
    var act = el('td', { 'data-label': 'Activity', 'class': 'activity' });
    act.appendChild(el('span', {}, s.activity));
    if (s.file) { act.appendChild(document.createTextNode(' ')); act.appendChild(el('span', { 'class': 'mono file' }, s.file)); }
    if (s.percent >= 0) { var p = el('progress', { max: '100', value: String(s.percent) }, s.percent + ' %'); act.appendChild(p); }
    if (s.progress) act.appendChild(el('span', { 'class': 'small' }, s.progress + (s.speed ? ' at ' + s.speed : '')));
    out.push(act);
    out.push(el('td', { 'data-label': 'Transferred' }, s.up + ' up, ' + s.down + ' down'));
    return out;
  }

  function actionsCell(s, csrf) {
    var td = el('td', { 'class': 'actions' });
    var form = el('form', { method: 'post', action: s.disconnect_url, 'class': 'inline' });
    form.appendChild(el('input', { type: 'hidden', name: 'csrf', value: csrf }));
    form.appendChild(el('button', { type: 'submit', 'class': 'btn small danger' }, 'Disconnect'));
    td.appendChild(form);
    return td;
  }

  // render updates rows in place, keyed by session ID, so a focused
  // Disconnect button keeps its focus across refreshes.
  function render(table, sessions, admin, csrf) {
    var tbody = table.tBodies[0];
    var existing = {};
    tbody.querySelectorAll('tr[data-id]').forEach(function (tr) { existing[tr.getAttribute('data-id')] = tr; });
    tbody.querySelectorAll('tr.empty').forEach(function (tr) { tr.remove(); });
    sessions.forEach(function (s) {
      var tr = existing[s.id];
      delete existing[s.id];
      if (!tr) {
        tr = el('tr', { 'data-id': s.id });
        tr.appendChild(actionsCell(s, csrf));
      }
      var actions = tr.lastElementChild;
      while (tr.firstElementChild !== actions) tr.firstElementChild.remove();
      cells(s, admin).forEach(function (c) { tr.insertBefore(c, actions); });
      tbody.appendChild(tr); // keeps the feed's order
    });
    Object.keys(existing).forEach(function (id) { existing[id].remove(); });
    if (!sessions.length) {
      var cols = table.tHead.rows[0].cells.length;
      var tr = el('tr', { 'class': 'empty' });
      tr.appendChild(el('td', { colspan: String(cols) }, 'No one is connected right now.'));
      tbody.appendChild(tr);
    }
  }

  document.querySelectorAll('table[data-live]').forEach(function (table) {
    var url = table.getAttribute('data-live');
    var poll = parseInt(table.getAttribute('data-poll'), 10) || 1500;
    var admin = table.hasAttribute('data-admin');
    var csrf = table.getAttribute('data-csrf');
    var status = document.querySelector('[data-live-status]');
    function refresh() {
      fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
        .then(function (res) {
          if (res.status === 401) throw new Error('logged out');
          if (!res.ok) throw new Error('HTTP ' + res.status);
          return res.json();
        })
        .then(function (feed) {
          render(table, feed.sessions || [], admin, csrf);
          if (status) status.textContent = 'Live: updated ' + new Date().toLocaleTimeString() + '.';
          setTimeout(refresh, poll);
        })
        .catch(function (err) {
          if (status) status.textContent = err.message === 'logged out'
            ? 'You are logged out: reload the page to log in again.'
            : 'Could not refresh (' + err.message + '): retrying.';
          if (err.message !== 'logged out') setTimeout(refresh, poll * 2);
        });
    }
    setTimeout(refresh, poll);
  });
})();
