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
      if (confirm) {
        confirm.value = input.value;
        confirm.dispatchEvent(new Event('input', { bubbles: true }));
      }
      setVisible(true); // a generated password must be seen to be copied
      input.dispatchEvent(new Event('input', { bubbles: true })); // strength, stale errors
      input.focus();
      input.select();
    });
    show.addEventListener('click', function () { setVisible(input.type === 'password'); });
    input.addEventListener('input', update);
    // A password kept across a refused submit is shown, like a generated one.
    if (input.value) setVisible(true);
    update();
  });

  // ---- Announcements and messages ------------------------------------------

  var announcer = document.getElementById('announce');

  // announce has screen readers read text (the live region is polite).
  function announce(text) {
    if (!announcer) return;
    announcer.textContent = '';
    setTimeout(function () { announcer.textContent = text; }, 50);
  }

  // showMessage puts text in the page's message box at the top, as the
  // server's one-time messages are, and announces it.
  function showMessage(text) {
    var box = document.querySelector('main > .flash');
    if (!box) {
      box = el('p', { 'class': 'flash', tabindex: '-1' });
      var after = document.querySelector('main > .crumbs, main > .error-summary');
      var main = document.getElementById('main');
      main.insertBefore(box, after ? after.nextSibling : main.firstChild);
    }
    box.textContent = text;
    announce(text);
    return box;
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // setLabel changes a button's visible text, keeping the part only screen
  // readers hear (a span.sr-only naming what it acts on).
  function setLabel(btn, text) {
    var node = btn.firstChild;
    if (node && node.nodeType === Node.TEXT_NODE) node.nodeValue = text;
    else btn.insertBefore(document.createTextNode(text), btn.firstChild);
  }

  function labelOf(btn) {
    var node = btn.firstChild;
    return node && node.nodeType === Node.TEXT_NODE ? node.nodeValue : btn.textContent;
  }

  // ---- Copy buttons ---------------------------------------------------------

  function legacyCopy(text) {
    var ta = el('textarea', { readonly: '', 'class': 'offscreen' });
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    ta.remove();
    return ok ? Promise.resolve() : Promise.reject(new Error('copy refused'));
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return legacyCopy(text); });
    }
    return legacyCopy(text);
  }

  document.querySelectorAll('button[data-copy]').forEach(function (btn) {
    var target = document.getElementById(btn.getAttribute('data-copy'));
    if (!target) return;
    var what = (btn.querySelector('.sr-only') || { textContent: '' }).textContent.trim();
    var label = labelOf(btn);
    var timer = null;
    btn.hidden = false;
    btn.addEventListener('click', function () {
      var text = 'value' in target ? target.value : target.textContent.trim();
      copyText(text).then(function () {
        setLabel(btn, 'Copied');
        announce('Copied the ' + what + '.');
      }, function () {
        // The browser would not copy: select it for Ctrl+C instead.
        if (target.select) target.select();
        else window.getSelection().selectAllChildren(target);
        setLabel(btn, 'Press Ctrl+C');
        announce('Selected the ' + what + ': press Control C to copy it.');
      }).then(function () {
        btn.focus();
        clearTimeout(timer);
        timer = setTimeout(function () { setLabel(btn, label); }, 2500);
      });
    });
  });

  // ---- Forms refused by the server ----------------------------------------

  // The error summary gets the focus, so the first thing read and seen
  // after a refused submit is what to fix; its links lead to each field.
  var summary = document.querySelector('[data-error-summary]');
  if (summary) {
    summary.focus();
    summary.addEventListener('click', function (e) {
      var link = e.target.closest('a[data-for]');
      var input = link && document.getElementById(link.getAttribute('data-for'));
      if (!input) return;
      e.preventDefault();
      var details = input.closest('details');
      if (details) details.open = true;
      var label = document.querySelector('label[for="' + input.id + '"]');
      (label || input).scrollIntoView({ block: 'start' });
      input.focus({ preventScroll: true });
    });
  }

  // An error the server gave about a field goes once the field changes:
  // it described the old value.
  document.querySelectorAll('[aria-invalid="true"]').forEach(function (input) {
    function clear() {
      if (input.getAttribute('aria-invalid') !== 'true') return;
      input.removeAttribute('aria-invalid');
      var errID = input.id + '-err';
      var err = document.getElementById(errID);
      if (err) err.hidden = true;
      var described = (input.getAttribute('aria-describedby') || '').split(' ').filter(function (id) { return id && id !== errID; });
      if (described.length) input.setAttribute('aria-describedby', described.join(' '));
      else input.removeAttribute('aria-describedby');
      var link = summary && summary.querySelector('a[data-for="' + input.id + '"]');
      if (link) link.parentNode.remove();
      if (summary && !summary.querySelector('li')) summary.hidden = true;
    }
    input.addEventListener('input', clear);
    input.addEventListener('change', clear);
  });

  // ---- Times in the browser's time zone ------------------------------------

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  // localTime writes an RFC 3339 moment in this browser's time zone, with
  // the zone's short name: "2026-03-04 06:06 GMT+1".
  function localTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return '';
    var zone = '';
    try {
      new Intl.DateTimeFormat(undefined, { timeZoneName: 'short' }).formatToParts(d).forEach(function (p) {
        if (p.type === 'timeZoneName') zone = p.value;
      });
    } catch (e) { zone = ''; }
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
      pad(d.getHours()) + ':' + pad(d.getMinutes()) + (zone ? ' ' + zone : '');
  }

  function localizeTimes(root) {
    root.querySelectorAll('time[datetime]').forEach(function (t) {
      var text = localTime(t.getAttribute('datetime'));
      if (!text) return;
      if (!t.title) t.title = t.textContent; // the UTC time the server wrote
      t.textContent = text;
    });
  }
  localizeTimes(document);

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

  // ---- Confirm: a destructive button asks for a second press -------------

  var CONFIRM_SECONDS = 5;

  // arm turns btn into "Confirm ..." for CONFIRM_SECONDS, counting down,
  // and says so to screen readers. It returns false when btn was already
  // armed: that press is the confirmation.
  function arm(btn, confirmText, spoken, cancelled) {
    if (btn.dataset.armed) {
      clearInterval(Number(btn.dataset.armed));
      delete btn.dataset.armed;
      return false;
    }
    var label = labelOf(btn);
    var left = CONFIRM_SECONDS;
    function show() { setLabel(btn, confirmText + ' (' + left + ')'); }
    var timer = setInterval(function () {
      left--;
      if (left > 0) { show(); return; }
      clearInterval(timer);
      delete btn.dataset.armed;
      btn.classList.remove('armed');
      setLabel(btn, label);
      announce(cancelled);
    }, 1000);
    btn.dataset.armed = String(timer);
    btn.classList.add('armed');
    show();
    announce(spoken);
    return true;
  }

  // Delete: the button turns into Confirm for 5 seconds.
  document.querySelectorAll('form[data-confirm-delete]').forEach(function (form) {
    var btn = form.querySelector('button[type="submit"]');
    var confirm = form.querySelector('input[name="confirm"]');
    var user = btn.getAttribute('data-username');
    form.addEventListener('submit', function (e) {
      if (!arm(btn, 'Confirm delete of ' + user,
        'Press again within ' + CONFIRM_SECONDS + ' seconds to delete ' + user + '. Its files are kept.',
        user + ' was not deleted.')) {
        confirm.value = '1';
        return; // second press within the time: delete
      }
      e.preventDefault();
    });
  });

  // ---- Connections: refresh the table from the JSON feed -------------------

  function cells(s, admin) {
    var out = [];
    var user = el('th', { scope: 'row', 'data-label': 'Username' });
    user.appendChild(el('span', { 'class': 'mono' }, s.username));
    out.push(user);
    if (admin) out.push(el('td', { 'data-label': 'Account' }, s.account));
    var ip = el('td', { 'data-label': 'Client IP' });
    ip.appendChild(el('span', { 'class': 'mono ip' }, s.client_ip));
    out.push(ip);
    out.push(el('td', { 'data-label': 'Client' }, s.client));
    out.push(el('td', { 'data-label': 'TLS' }, s.tls));
    var since = el('td', { 'data-label': 'Connected since' });
    since.appendChild(el('time', { datetime: s.connected_at, title: s.connected_since }, localTime(s.connected_at) || s.connected_since));
    since.appendChild(document.createTextNode(' (' + s.connected_for + ')'));
    out.push(since);
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
    var form = el('form', { method: 'post', action: s.disconnect_url, 'class': 'inline', 'data-disconnect': '' });
    form.appendChild(el('input', { type: 'hidden', name: 'csrf', value: csrf }));
    var btn = el('button', { type: 'submit', 'class': 'btn small danger' }, 'Disconnect');
    btn.appendChild(el('span', { 'class': 'sr-only' }, ' ' + s.username));
    form.appendChild(btn);
    td.appendChild(form);
    return td;
  }

  // Sessions whose Disconnect was sent: their rows say so until they go.
  var disconnecting = {};

  function markDisconnecting(tr) {
    var act = tr.querySelector('td.activity');
    if (act) { act.textContent = ''; act.appendChild(el('span', {}, 'Disconnecting…')); }
    tr.removeAttribute('data-busy');
    var btn = tr.querySelector('form[data-disconnect] button');
    if (btn) {
      // Not disabled: a disabled button would drop the keyboard focus.
      btn.setAttribute('aria-disabled', 'true');
      setLabel(btn, 'Disconnecting…');
    }
  }

  // render updates rows in place, keyed by session ID, and moves a row
  // only when the order changed: moving an element takes the keyboard
  // focus off a Disconnect button inside it.
  function render(table, sessions, admin, csrf) {
    var tbody = table.tBodies[0];
    var existing = {};
    tbody.querySelectorAll('tr[data-id]').forEach(function (tr) { existing[tr.getAttribute('data-id')] = tr; });
    tbody.querySelectorAll('tr.empty').forEach(function (tr) { tr.remove(); });
    var live = {};
    sessions.forEach(function (s) { live[s.id] = true; });
    var focusLost = false;
    Object.keys(existing).forEach(function (id) {
      if (live[id]) return;
      if (existing[id].contains(document.activeElement)) focusLost = true;
      existing[id].remove();
      delete disconnecting[id];
    });
    var next = tbody.firstElementChild;
    sessions.forEach(function (s) {
      var tr = existing[s.id];
      if (!tr) {
        tr = el('tr', { 'data-id': s.id });
        tr.appendChild(actionsCell(s, csrf));
      }
      tr.setAttribute('data-username', s.username);
      if (s.busy) tr.setAttribute('data-busy', '1'); else tr.removeAttribute('data-busy');
      var actions = tr.lastElementChild;
      while (tr.firstElementChild !== actions) tr.firstElementChild.remove();
      cells(s, admin).forEach(function (c) { tr.insertBefore(c, actions); });
      if (disconnecting[s.id]) markDisconnecting(tr);
      if (tr === next) next = next.nextElementSibling;
      else tbody.insertBefore(tr, next); // new, or the order changed
    });
    if (!sessions.length) {
      var cols = table.tHead.rows[0].cells.length;
      var empty = el('tr', { 'class': 'empty' });
      empty.appendChild(el('td', { colspan: String(cols) }, 'No one is connected right now.'));
      tbody.appendChild(empty);
    }
    if (focusLost) {
      var msg = document.querySelector('main > .flash');
      if (msg) msg.focus();
    }
  }

  // disconnect sends the form with fetch and marks the row at once.
  function disconnect(form, tr) {
    var id = tr.getAttribute('data-id');
    var user = tr.getAttribute('data-username');
    fetch(form.action, {
      method: 'POST', credentials: 'same-origin', body: new URLSearchParams(new FormData(form)),
      headers: { Accept: 'application/json' }
    }).then(function (res) {
      return res.json().then(function (body) { return { ok: res.ok, body: body }; });
    }).then(function (r) {
      if (!r.ok) { showMessage(r.body.error || 'The server could not disconnect ' + user + '.'); return; }
      disconnecting[id] = true;
      markDisconnecting(tr);
      showMessage('Disconnect of ' + user + ' requested: the session ends in a moment.');
    }).catch(function () {
      showMessage('The server could not be reached: ' + user + ' is still connected. Try again.');
    });
  }

  document.querySelectorAll('table[data-live]').forEach(function (table) {
    var url = table.getAttribute('data-live');
    var poll = parseInt(table.getAttribute('data-poll'), 10) || 1500;
    var admin = table.hasAttribute('data-admin');
    var csrf = table.getAttribute('data-csrf');
    var status = document.querySelector('[data-live-status]');

    // Disconnect: at once for an idle session; for a running transfer,
    // only after a second press.
    table.addEventListener('submit', function (e) {
      var form = e.target.closest('form[data-disconnect]');
      if (!form) return;
      e.preventDefault();
      var tr = form.closest('tr');
      var btn = form.querySelector('button');
      if (btn.getAttribute('aria-disabled') === 'true') return;
      var user = tr.getAttribute('data-username');
      if ((tr.hasAttribute('data-busy') || btn.dataset.armed) &&
        arm(btn, 'Confirm disconnect of ' + user,
          user + ' is transferring a file. Press again within ' + CONFIRM_SECONDS + ' seconds to disconnect and stop the transfer.',
          user + ' was not disconnected.')) {
        return;
      }
      btn.classList.remove('armed');
      disconnect(form, tr);
    });

    function refresh() {
      fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
        .then(function (res) {
          if (res.status === 401) throw new Error('logged out');
          if (res.status === 503) throw new Error('the panel is briefly unavailable');
          if (!res.ok) throw new Error('HTTP ' + res.status);
          return res.json();
        })
        .then(function (feed) {
          render(table, feed.sessions || [], admin, csrf);
          if (status) status.textContent = 'Updated at ' + new Date().toLocaleTimeString() + '.';
          setTimeout(refresh, poll);
        })
        .catch(function (err) {
          if (status) status.textContent = err.message === 'logged out'
            ? 'You are logged out: reload the page to log in again.'
            : 'Could not update (' + err.message + '): trying again.';
          if (err.message !== 'logged out') setTimeout(refresh, poll * 2);
        });
    }
    setTimeout(refresh, poll);
  });
})();
