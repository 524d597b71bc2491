// Atrium passkeys (WebAuthn) in the browser: adding one on the Security info page, and
// signing in with one on the console's sign-in page and the authorize page. Served from
// this server (no CDN) and loaded as a file, so the pages' CSP needs no inline script.
// The server sends WebAuthn options with binary values in base64url; the browser API wants
// ArrayBuffers, and the server wants the answer back in base64url JSON.
"use strict";
(function () {
  function toBuf(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function toB64u(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function creationOptions(pk) {
    pk.challenge = toBuf(pk.challenge);
    pk.user.id = toBuf(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = toBuf(c.id); });
    return pk;
  }
  function requestOptions(pk) {
    pk.challenge = toBuf(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = toBuf(c.id); });
    return pk;
  }
  function credentialJson(c) {
    var r = c.response;
    var out = { id: c.id, rawId: toB64u(c.rawId), type: c.type, response: { clientDataJSON: toB64u(r.clientDataJSON) } };
    try { out.extensions = c.getClientExtensionResults(); } catch (e) { out.extensions = {}; }
    if (r.attestationObject) out.response.attestationObject = toB64u(r.attestationObject);
    if (r.authenticatorData) {
      out.response.authenticatorData = toB64u(r.authenticatorData);
      out.response.signature = toB64u(r.signature);
      out.response.userHandle = r.userHandle ? toB64u(r.userHandle) : null;
    }
    return out;
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body || {}),
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) {
        if (!res.ok) throw new Error((json.error && json.error.message) || ("The server answered " + res.status + "."));
        return json;
      });
    });
  }
  function say(el, text) {
    if (!el) return;
    el.textContent = text;
    el.hidden = !text;
  }
  function browserError(e) {
    if (e && e.name === "NotAllowedError") return "The passkey request was cancelled or timed out.";
    if (e && e.name === "InvalidStateError") return "This device already holds a passkey of yours for this site.";
    return (e && e.message) || "The passkey could not be used.";
  }
  var supported = !!(window.PublicKeyCredential && navigator.credentials);

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-passkey-register], [data-passkey-sign-in]").forEach(function (b) { b.hidden = !supported; });
    document.querySelectorAll("#passkey-unsupported").forEach(function (p) { p.hidden = supported; });
  });

  document.addEventListener("click", function (ev) {
    var add = ev.target.closest("[data-passkey-register]");
    var signIn = ev.target.closest("[data-passkey-sign-in]");
    if (!add && !signIn) return;
    ev.preventDefault();
    var status = document.getElementById("passkey-status");
    say(status, "");
    if (add) {
      var nameInput = document.getElementById("passkey-name");
      var name = nameInput ? nameInput.value.trim() : "";
      add.disabled = true;
      post("/api/v1/me/passkeys/begin").then(function (c) {
        return navigator.credentials.create({ publicKey: creationOptions(c.publicKey) }).then(function (cred) {
          var body = { ceremonyId: c.ceremonyId, credential: credentialJson(cred) };
          if (name) body.name = name;
          return post("/api/v1/me/passkeys", body);
        });
      }).then(function () {
        window.location.assign("/security-info");
      }, function (e) {
        add.disabled = false;
        say(status, browserError(e));
      });
      return;
    }
    var form = document.getElementById(signIn.getAttribute("data-form"));
    var tenant = signIn.getAttribute("data-tenant");
    signIn.disabled = true;
    post("/api/v1/sign-in/passkey/begin", tenant ? { tenant: tenant } : {}).then(function (c) {
      return navigator.credentials.get({ publicKey: requestOptions(c.publicKey) }).then(function (cred) {
        form.querySelector("[name=passkey_ceremony]").value = c.ceremonyId;
        form.querySelector("[name=passkey_credential]").value = JSON.stringify(credentialJson(cred));
        form.submit();
      });
    }).catch(function (e) {
      signIn.disabled = false;
      say(status, browserError(e));
    });
  });
})();
