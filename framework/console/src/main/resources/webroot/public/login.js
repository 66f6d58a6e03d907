'use strict';
// The sign-in page: fetches the session's CSRF token, then posts the token or the user and password.
(function () {
  let csrf = null;
  let pending = null; // the session request in flight, shared
  let mode = 'token';
  const form = document.getElementById('login');
  const error = document.getElementById('login-error');

  /** A request that fails without an answer (a dropped connection) is tried once more. */
  async function send(path, options) {
    try {
      return await fetch(path, options);
    } catch (e) {
      await new Promise(r => setTimeout(r, 300));
      return fetch(path, options);
    }
  }

  function session() {
    if (!pending) {
      pending = (async () => {
        const res = await send('/api/session', {credentials: 'same-origin'});
        const s = await res.json();
        if (s.authenticated) {
          location.replace('/');
          return;
        }
        csrf = s.csrf;
      })().finally(() => { pending = null; });
    }
    return pending;
  }

  function setMode(m) {
    mode = m;
    document.querySelectorAll('.tab').forEach(t => t.classList.toggle('active', t.dataset.mode === m));
    document.querySelectorAll('.mode-token').forEach(e => e.classList.toggle('hidden', m !== 'token'));
    document.querySelectorAll('.mode-password').forEach(e => e.classList.toggle('hidden', m !== 'password'));
  }

  document.querySelectorAll('.tab').forEach(t => t.addEventListener('click', () => setMode(t.dataset.mode)));

  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    error.textContent = '';
    const body = mode === 'token'
      ? {token: document.getElementById('token').value}
      : {user: document.getElementById('user').value, password: document.getElementById('password').value};
    try {
      if (!csrf) {
        await session();
      }
      const res = await send('/api/login', {
        method: 'POST', credentials: 'same-origin',
        headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf},
        body: JSON.stringify(body)
      });
      const data = await res.json();
      if (!res.ok) {
        error.textContent = data.error || ('sign-in failed (' + res.status + ')');
        if (res.status === 403) {
          csrf = null;
        }
        return;
      }
      location.replace('/');
    } catch (e) {
      error.textContent = 'The node did not answer: ' + e.message;
    }
  });

  session().catch(e => { error.textContent = 'The node did not answer: ' + e.message; });
})();
